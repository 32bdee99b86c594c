<?php
// PDO (pdo_mysql, mysqlnd) workload, printed deterministically for harness/run.py compare.
// Covers: emulated and native (binary protocol) prepares, unbuffered queries, multi-statements and
// a procedure with several result sets (nextRowset), transactions, errors; plain TCP and TLS.
declare(strict_types=1);

const T = 'php_pdo';

function show(string $label, $value): void { echo $label, ': ', json_encode($value, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n"; }

function err(callable $fn): string {
    try { $fn(); return 'no error'; }
    catch (PDOException $e) { return $e->getCode() . ' ' . json_encode($e->errorInfo); }
}

function connect(bool $tls, bool $emulate): PDO {
    $dsn = sprintf('mysql:host=%s;port=%s;dbname=shop;charset=utf8mb4', getenv('UG_HOST'), getenv('UG_PORT'));
    $opts = [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_EMULATE_PREPARES => $emulate,
             PDO::ATTR_TIMEOUT => 10, PDO::MYSQL_ATTR_MULTI_STATEMENTS => true];
    if ($tls) {
        // Any SSL attribute turns TLS on; the proxy's certificate is self-signed, so no verification.
        $opts[PDO::MYSQL_ATTR_SSL_CA] = getenv('UG_SSL_CA');
        $opts[PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT] = false;
    }
    return new PDO($dsn, getenv('UG_USER'), getenv('UG_PASSWORD'), $opts);
}

function all_rowsets(PDOStatement $s): array {
    $sets = [];
    do {
        $sets[] = $s->columnCount() ? $s->fetchAll(PDO::FETCH_NUM) : ['rowCount' => $s->rowCount()];
    } while ($s->nextRowset());
    return $sets;
}

function workload(PDO $db, string $tag): void {
    show('server version', $db->getAttribute(PDO::ATTR_SERVER_VERSION));
    $db->exec('DROP TABLE IF EXISTS ' . T . '_items');
    $db->exec('CREATE TABLE ' . T . '_items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,
               model VARCHAR(20), qty INT, price DECIMAL(10,2), created DATETIME, delete_status TINYINT NOT NULL DEFAULT 0)');
    $ins = $db->prepare('INSERT INTO ' . T . '_items (name, model, qty, price, created) VALUES (:n, :m, :q, :p, :c)');
    foreach ([['a', 'A', 1, '1.50', '2024-01-01 10:00:00'], ['b', null, null, null, null], ['ü ✓', 'X', -3, '12.00', '1999-12-31 23:59:59']] as [$n, $m, $q, $p, $c]) {
        $ins->bindValue(':n', $n);
        $ins->bindValue(':m', $m, $m === null ? PDO::PARAM_NULL : PDO::PARAM_STR);
        $ins->bindValue(':q', $q, $q === null ? PDO::PARAM_NULL : PDO::PARAM_INT);
        $ins->bindValue(':p', $p);
        $ins->bindValue(':c', $c);
        $ins->execute();
        show('insert', [$ins->rowCount(), $db->lastInsertId()]);
    }
    $sel = $db->prepare('SELECT * FROM ' . T . '_items WHERE id >= ? ORDER BY id');
    $sel->execute([1]);
    show('meta', array_map(fn($i) => [$sel->getColumnMeta($i)['name'], $sel->getColumnMeta($i)['native_type'] ?? null], range(0, $sel->columnCount() - 1)));
    show('rows', $sel->fetchAll(PDO::FETCH_NUM));
    show('update', $db->exec('UPDATE ' . T . '_items SET qty = 7 WHERE qty IS NULL'));
    show('duplicate', err(fn() => $db->exec('INSERT INTO ' . T . "_items (id, name) VALUES (1, 'x')")));
    show('syntax', err(fn() => $db->query('SELEC 1')));
    show('bad prepare', err(fn() => $db->prepare('SELECT * FROM no_such_table WHERE id = ?')->execute([1])));

    // 1 MiB parameter through prepare (text when emulated, binary otherwise)
    $blob = str_repeat(hash('sha256', $tag, true), 32768);
    $s = $db->prepare('SELECT LENGTH(?), SHA2(?, 256)');
    $s->bindValue(1, $blob, PDO::PARAM_LOB);
    $s->bindValue(2, $blob, PDO::PARAM_LOB);
    $s->execute();
    [$len, $sha] = $s->fetch(PDO::FETCH_NUM);
    show('blob param', [(int)$len, $sha === hash('sha256', $blob)]);

    // unbuffered result
    $db->setAttribute(PDO::MYSQL_ATTR_USE_BUFFERED_QUERY, false);
    $s = $db->query('SELECT seq FROM seq_1_to_50000');
    $sum = 0; $n = 0;
    while (($row = $s->fetch(PDO::FETCH_NUM)) !== false) { $sum += (int)$row[0]; $n++; }
    $s->closeCursor();
    $db->setAttribute(PDO::MYSQL_ATTR_USE_BUFFERED_QUERY, true);
    show('unbuffered', [$n, $sum]);

    // multi-statements and a procedure with several result sets
    $db->exec('DROP PROCEDURE IF EXISTS ' . T . '_report');
    $db->exec('CREATE PROCEDURE ' . T . '_report(IN lim INT) BEGIN
                 SELECT COUNT(*) AS n FROM ' . T . '_items;
                 SELECT id, name FROM ' . T . '_items ORDER BY id LIMIT lim;
                 SELECT \'done\' AS status; END');
    $s = $db->prepare('CALL ' . T . '_report(?)');
    $s->execute([2]);
    show('call', all_rowsets($s));
    $s->closeCursor();
    if ($db->getAttribute(PDO::ATTR_EMULATE_PREPARES)) {
        $s = $db->query("SELECT 1 AS a; SELECT 'two' AS b; UPDATE " . T . '_items SET qty = qty + 1; SELECT COUNT(*) FROM ' . T . '_items');
        show('multi', all_rowsets($s));
        $s->closeCursor();
    }
    $db->exec('DROP PROCEDURE ' . T . '_report');

    // transactions
    $count = fn() => (int)$db->query('SELECT COUNT(*) FROM ' . T . '_items')->fetchColumn();
    $start = $count();
    $db->beginTransaction();
    show('in transaction', $db->inTransaction());
    $db->exec('INSERT INTO ' . T . "_items (name) VALUES ('rb')");
    $db->rollBack();
    show('after rollback', [$db->inTransaction(), $count() - $start]);
    $db->beginTransaction();
    $db->exec('INSERT INTO ' . T . "_items (name) VALUES ('c')");
    $db->commit();
    show('after commit', $count() - $start);
    $db->exec('DROP TABLE ' . T . '_items');
}

foreach ([false, true] as $tls) {
    foreach ([true, false] as $emulate) {
        echo '==== tls=', json_encode($tls), ' emulate_prepares=', json_encode($emulate), "\n";
        $db = connect($tls, $emulate);
        workload($db, "$tls/$emulate");
        $db = null;
    }
}
