<?php
// One prepared_test.py client: runs a plan (TSV) with mysqli server-side prepared statements
// (prepare / bind_param / execute; some rows send a column with COM_STMT_SEND_LONG_DATA) and
// writes one result line per outcome. Usage: php php_client.php PLAN.tsv OUT.tsv
declare(strict_types=1);
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

[$_, $planFile, $outFile] = $argv;
$deadline = microtime(true) + (float)(getenv('UG_BUDGET_S') ?: 60);
$table = getenv('UG_TABLE');
$out = fopen($outFile, 'w');

function emit($out, array $fields): void {
    fwrite($out, implode("\t", array_map(fn($f) => str_replace(["\t", "\n"], ' ', (string)$f), $fields)) . "\n");
}

$m = mysqli_init();
$m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
$m->options(MYSQLI_OPT_READ_TIMEOUT, 30);
$m->real_connect(getenv('UG_HOST'), getenv('UG_USER'), getenv('UG_PASSWORD'), 'shop', (int)getenv('UG_PORT'));
$m->set_charset('utf8mb4');

$insertSql = "INSERT INTO $table (name, model, price, note) VALUES (?, ?, ?, ?)";
$insert = $m->prepare($insertSql);
$insertLongName = $m->prepare($insertSql);   // name sent as long data
$insertLongNote = $m->prepare($insertSql);   // note sent as long data
$delete = $m->prepare("UPDATE $table SET delete_status = 1 WHERE name = ? AND model = ? AND delete_status = 0");

// Runs one prepared INSERT; returns true when it succeeded.
function insert_row($out, string $ctx, string $name, string $model, int $price, string $flag): bool {
    global $insert, $insertLongName, $insertLongNote;
    $note = "n$price";
    $null = null;
    try {
        if ($flag === 'long_name') {
            $s = $insertLongName;
            $s->bind_param('bsis', $null, $model, $price, $note);
            foreach (str_split($name, 3) as $chunk) $s->send_long_data(0, $chunk);  // several packets
        } elseif ($flag === 'long_note') {
            $s = $insertLongNote;
            $s->bind_param('ssib', $name, $model, $price, $null);
            $s->send_long_data(3, $note);
        } else {
            $s = $insert;
            $s->bind_param('ssis', $name, $model, $price, $note);
        }
        $s->execute();
        emit($out, ['ins', $name, $model, $ctx, 'OK', $s->affected_rows, $s->insert_id]);
        return true;
    } catch (mysqli_sql_exception $e) {
        emit($out, ['ins', $name, $model, $ctx, 'ERR', $e->getCode(), $e->getSqlState(), $e->getMessage()]);
        return false;
    }
}

foreach (file($planFile, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
    if (microtime(true) > $deadline) { fwrite(STDERR, "time budget used up\n"); exit(3); }
    $op = explode("\t", $line);
    switch ($op[0]) {
    case 'ins':
        insert_row($out, 'auto', $op[1], $op[2], (int)$op[3], $op[4]);
        break;
    case 'delre':
        [$_, $name, $model] = $op;
        try {
            $delete->bind_param('ss', $name, $model);
            $delete->execute();
            emit($out, ['del', $name, $model, 'auto', 'OK', $delete->affected_rows]);
        } catch (mysqli_sql_exception $e) {
            emit($out, ['del', $name, $model, 'auto', 'ERR', $e->getCode(), $e->getSqlState(), $e->getMessage()]);
        }
        insert_row($out, 'auto', $name, $model, 7, '-');
        break;
    case 'txn':
        $commit = $op[1] === 'commit';
        $rows = array_chunk(array_slice($op, 2), 2);
        $m->begin_transaction();
        $lines = [];
        $buffer = fopen('php://memory', 'w+');
        $failed = false;
        foreach ($rows as [$name, $model]) {
            if (!insert_row($buffer, 'TXN', $name, $model, 3, '-')) { $failed = true; break; }
        }
        if ($commit && !$failed) { $m->commit(); $ctx = 'txc'; } else { $m->rollback(); $ctx = 'txr'; }
        rewind($buffer);
        fwrite($out, str_replace("\tTXN\t", "\t$ctx\t", stream_get_contents($buffer)));
        break;
    default:
        fwrite(STDERR, "unknown plan line: $line\n");
        exit(2);
    }
}
fclose($out);
$m->close();
