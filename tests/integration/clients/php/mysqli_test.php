<?php
// mysqli (mysqlnd) workload, printed deterministically for harness/run.py compare.
// Covers: text queries, prepared statements (binary protocol), COM_STMT_SEND_LONG_DATA with a
// 17 MiB blob, cursor fetch (COM_STMT_FETCH), multi_query, a procedure with several result sets
// (text and prepared), transactions, COM_CHANGE_USER, COM_PING, COM_INIT_DB, COM_STATISTICS,
// LOAD DATA LOCAL INFILE; over plain TCP and over TLS.
declare(strict_types=1);
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

const T = 'php_mi';

function show(string $label, $value): void { echo $label, ': ', json_encode($value, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n"; }

function err(callable $fn): string {
    try { $fn(); return 'no error'; }
    catch (mysqli_sql_exception $e) { return $e->getCode() . ' ' . $e->getSqlState() . ' ' . $e->getMessage(); }
}

function connect(bool $tls, string $user = '', string $pw = ''): mysqli {
    $m = mysqli_init();
    $m->options(MYSQLI_OPT_LOCAL_INFILE, 1);
    $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
    $flags = 0;
    if ($tls) {
        $m->ssl_set(null, null, null, null, null);
        $flags = MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT;
    }
    $m->real_connect(getenv('UG_HOST'), $user ?: getenv('UG_USER'), $pw ?: getenv('UG_PASSWORD'), 'shop',
                     (int)getenv('UG_PORT'), null, $flags);
    $m->set_charset('utf8mb4');
    return $m;
}

function rows(mysqli_result $r): array { return $r->fetch_all(MYSQLI_NUM); }

function basic(mysqli $m): void {
    show('server info', $m->server_info);
    $m->query('DROP TABLE IF EXISTS ' . T . '_items');
    $m->query('CREATE TABLE ' . T . '_items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,
               model VARCHAR(20), qty INT, price DECIMAL(10,2), data BLOB, delete_status TINYINT NOT NULL DEFAULT 0)');
    $m->query('INSERT INTO ' . T . "_items (name, model, qty, price) VALUES ('a','A',1,1.5),('b','B',2,2.5),('c',NULL,3,NULL)");
    show('insert', [$m->affected_rows, $m->insert_id, $m->info, $m->warning_count]);
    $r = $m->query('SELECT * FROM ' . T . '_items ORDER BY id');
    show('fields', array_map(fn($f) => [$f->name, $f->type, $f->length, $f->flags], $r->fetch_fields()));
    show('rows', rows($r));
    $m->query("SELECT CAST('1x' AS SIGNED)");
    show('warnings', [$m->warning_count, rows($m->query('SHOW WARNINGS'))]);
    show('escape', $m->real_escape_string("it's \"q\" \\ \0 ✓"));
    show('unknown table', err(fn() => $m->query('SELECT * FROM no_such_table')));
    show('duplicate', err(fn() => $m->query('INSERT INTO ' . T . "_items (id, name) VALUES (1, 'x')")));
}

function prepared(mysqli $m): void {
    $s = $m->prepare('INSERT INTO ' . T . '_items (name, model, qty, price) VALUES (?, ?, ?, ?)');
    show('param count', $s->param_count);
    foreach ([['p1', 'X', 10, 1.25], ['p2', null, null, null], ['ünï ✓', 'Y', -5, 99999999.99]] as [$n, $mo, $q, $p]) {
        $s->bind_param('ssid', $n, $mo, $q, $p);
        $s->execute();
        show('stmt insert', [$s->affected_rows, $s->insert_id]);
    }
    $s->close();
    $s = $m->prepare('SELECT id, name, model, qty, price FROM ' . T . '_items WHERE qty >= ? ORDER BY id');
    foreach ([2, -100] as $min) {
        $s->bind_param('i', $min);
        $s->execute();
        show("stmt select qty >= $min", $s->get_result()->fetch_all(MYSQLI_NUM));
    }
    $s->close();
    show('prepare error', err(fn() => $m->prepare('SELECT * FROM no_such_table WHERE id = ?')));

    // COM_STMT_SEND_LONG_DATA: 17 MiB in 1 MiB chunks, read back through the binary protocol.
    $m->query('DROP TABLE IF EXISTS ' . T . '_blobs');
    $m->query('CREATE TABLE ' . T . '_blobs (id INT PRIMARY KEY, b LONGBLOB)');
    mt_srand(7);
    $chunk = '';
    for ($i = 0; $i < 1024 * 1024 / 4; $i++) $chunk .= pack('N', mt_rand());
    $s = $m->prepare('INSERT INTO ' . T . '_blobs VALUES (1, ?)');
    $null = null;
    $s->bind_param('b', $null);
    $h = hash_init('sha256');
    for ($i = 0; $i < 17; $i++) { $piece = $chunk . pack('N', $i); $s->send_long_data(0, $piece); hash_update($h, $piece); }
    $s->execute();
    $sent = hash_final($h);
    $s->close();
    $s = $m->prepare('SELECT b, LENGTH(b), SHA2(b, 256) FROM ' . T . '_blobs WHERE id = ?');
    $id = 1;
    $s->bind_param('i', $id);
    $s->execute();
    [$b, $len, $sha] = $s->get_result()->fetch_row();
    $ok = hash('sha256', $b) === $sent && $sha === $sent;
    show('long data blob', [$len, substr($sent, 0, 16), $ok ? 'roundtrip ok' : 'MISMATCH']);
    if (!$ok) { fwrite(STDERR, "blob mismatch\n"); exit(1); }
    $s->close();
    $m->query('DROP TABLE ' . T . '_blobs');
}

function cursor_fetch(mysqli $m): void {
    $before = (int)$m->query("SHOW SESSION STATUS LIKE 'Com_stmt_fetch'")->fetch_row()[1];
    $s = $m->stmt_init();
    $s->prepare('SELECT seq, CONCAT(\'r\', seq) FROM seq_1_to_1000 WHERE seq % ? = 0');
    $s->attr_set(MYSQLI_STMT_ATTR_CURSOR_TYPE, MYSQLI_CURSOR_TYPE_READ_ONLY);
    $mod = 3;
    $s->bind_param('i', $mod);
    $s->execute();
    $s->bind_result($seq, $label);
    $n = 0; $sum = 0; $last = '';
    while ($s->fetch()) { $n++; $sum += $seq; $last = $label; }
    $s->close();
    $after = (int)$m->query("SHOW SESSION STATUS LIKE 'Com_stmt_fetch'")->fetch_row()[1];
    show('cursor fetch', [$n, $sum, $last, $after - $before > 1 ? 'COM_STMT_FETCH used' : 'NO CURSOR']);
}

function multi(mysqli $m): void {
    $m->query('DROP PROCEDURE IF EXISTS ' . T . '_report');
    $m->query('CREATE PROCEDURE ' . T . '_report(IN lim INT) BEGIN
                 SELECT COUNT(*) AS n FROM ' . T . '_items;
                 SELECT id, name FROM ' . T . '_items ORDER BY id LIMIT lim;
                 SELECT \'done\' AS status; END');
    $queries = ['CALL ' . T . '_report(2)',
                "SELECT 1 AS a; SELECT 'two' AS b; UPDATE " . T . "_items SET qty = qty + 1 WHERE id = 1; SELECT @@autocommit",
                'SELECT 1; SELECT * FROM no_such_table; SELECT 3'];
    foreach ($queries as $q) {
        echo "-- $q\n";
        try {
            $m->multi_query($q);
            do {
                if ($r = $m->store_result()) { show('  result', rows($r)); $r->free(); }
                else show('  ok', [$m->affected_rows]);
            } while ($m->more_results() && $m->next_result());
        } catch (mysqli_sql_exception $e) { show('  error', [$e->getCode(), $e->getMessage()]); }
    }
    // CALL through a prepared statement: several binary result sets
    $s = $m->prepare('CALL ' . T . '_report(?)');
    $lim = 1;
    $s->bind_param('i', $lim);
    $s->execute();
    do {
        if ($r = $s->get_result()) show('  stmt result', $r->fetch_all(MYSQLI_NUM));
    } while ($s->more_results() && $s->next_result());
    $s->close();
    show('still usable', rows($m->query('SELECT 5')));
    $m->query('DROP PROCEDURE ' . T . '_report');
}

function transactions(mysqli $m): void {
    $count = fn() => rows($m->query('SELECT COUNT(*) FROM ' . T . '_items'))[0][0];
    $start = $count();
    $m->begin_transaction();
    $m->query('INSERT INTO ' . T . "_items (name) VALUES ('rb')");
    $m->rollback();
    show('after rollback', $count() - $start);
    $m->autocommit(false);
    $m->query('INSERT INTO ' . T . "_items (name) VALUES ('c1')");
    $m->commit();
    $m->autocommit(true);
    show('after commit', $count() - $start);
    $m->begin_transaction(MYSQLI_TRANS_START_READ_ONLY);
    show('write in read-only trx', err(fn() => $m->query('INSERT INTO ' . T . "_items (name) VALUES ('ro')")));
    $m->rollback();
}

function session(mysqli $m, bool $tls): void {
    show('ping', $m->ping());
    show('stat', str_starts_with($m->stat(), 'Uptime: '));
    $m->select_db('mysql');
    show('select_db', rows($m->query('SELECT DATABASE()')));
    show('select_db unknown', err(fn() => $m->select_db('no_such_db')));
    $m->select_db('shop');

    // COM_CHANGE_USER: session state is dropped, the new user's privileges apply.
    $m->query('SET @v := 1');
    $m->query('CREATE TEMPORARY TABLE ' . T . '_tmp (x INT)');
    show('change_user app2', $m->change_user('app2', 'app2_pw', 'shop'));
    show('after change_user', rows($m->query('SELECT CURRENT_USER(), DATABASE(), @v')));
    show('temp table gone', err(fn() => $m->query('SELECT * FROM ' . T . '_tmp')));
    show('app2 cannot read mysql.user', err(fn() => $m->query('SELECT COUNT(*) FROM mysql.user')));
    show('change_user back', $m->change_user(getenv('UG_USER'), getenv('UG_PASSWORD'), 'shop'));
    show('after change_user back', rows($m->query('SELECT CURRENT_USER(), DATABASE()')));

    // LOAD DATA LOCAL INFILE
    $file = getenv('UG_IT_STATE') . '/work/php_mi.csv';
    @mkdir(dirname($file), 0777, true);
    $lines = '';
    for ($i = 0; $i < 2000; $i++) $lines .= "ld$i,L" . ($i % 4) . ",$i\n";
    file_put_contents($file, $lines);
    $m->query("LOAD DATA LOCAL INFILE '" . $m->real_escape_string($file) . "' INTO TABLE " . T . "_items FIELDS TERMINATED BY ',' (name, model, qty)");
    show('load data', [$m->affected_rows, $m->info]);
    show('loaded', rows($m->query('SELECT COUNT(*), SUM(qty) FROM ' . T . "_items WHERE name LIKE 'ld%'")));
}

foreach ([false, true] as $tls) {
    echo '==== tls=', $tls ? 'true' : 'false', "\n";
    $m = connect($tls);
    basic($m);
    prepared($m);
    cursor_fetch($m);
    multi($m);
    transactions($m);
    session($m, $tls);
    $m->query('DROP TABLE ' . T . '_items');
    $m->close();
}
// a failed COM_CHANGE_USER (wrong password) is an error, on its own connection
$m = connect(false);
show('change_user wrong password', err(fn() => $m->change_user('app2', 'nope', 'shop')));
