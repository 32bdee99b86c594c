<?php
// prepared_test.py long_data_bound: prepared writes to a rule table (UG_TABLE) whose values come
// with COM_STMT_SEND_LONG_DATA (mysqli send_long_data) — the key column itself or another one —
// in autocommit and inside a transaction, then the session's own counters, read through the same
// connection. Prints one JSON line: {"answers": [...], "before": {...}, "after": {...}}.
// Usage: php php_long_data.php
declare(strict_types=1);
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

$table = getenv('UG_TABLE');
$m = mysqli_init();
$m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
$m->options(MYSQLI_OPT_READ_TIMEOUT, 30);
$m->real_connect(getenv('UG_HOST'), getenv('UG_USER'), getenv('UG_PASSWORD'), 'shop', (int)getenv('UG_PORT'));
$m->set_charset('utf8mb4');

function counters(mysqli $m): array {
    $out = [];
    $r = $m->query("SHOW SESSION STATUS WHERE Variable_name IN ('Com_stmt_prepare', 'Com_stmt_execute', 'Questions')");
    foreach ($r->fetch_all() as [$name, $value]) $out[$name] = (int)$value;
    return $out;
}

$insert = $m->prepare("INSERT INTO $table (name, model, price, note) VALUES (?, ?, ?, ?)");
$rename = $m->prepare("UPDATE $table SET name = ? WHERE name = ? AND delete_status = 0");
$odd = "l'd\\\\ \0é";  // would break SQL if pasted
$null = null;
$steps = [
    // [statement, types, values, index sent as long data (in chunks)]
    [$insert, 'bsis', [$odd, 'm', 1, 'n1'], 0],
    [$insert, 'bsis', [strtoupper($odd), 'm', 2, 'n2'], 0],   // its case variant: 1062
    [$insert, 'ssib', ['ld_b', 'm', 3, 'a note'], 3],            // a new key, the note as long data
    [$rename, 'bs', [$odd, 'ld_b'], 0],                          // a rename onto the live key: 1062
    [$rename, 'bs', ['ld_c', 'ld_b'], 0],                        // a rename to a free key
    ['BEGIN'],
    [$insert, 'bsis', ['ld_t', 'm', 4, 'n4'], 0],
    [$insert, 'bsis', ['LD_T', 'm', 5, 'n5'], 0],                 // 1062 inside the transaction
    ['COMMIT'],
];
$before = counters($m);
$answers = [];
foreach ($steps as $step) {
    if (count($step) === 1) {
        $m->query($step[0]);
        continue;
    }
    [$s, $types, $values, $long] = $step;
    $bound = $values;
    $bound[$long] = $null;
    try {
        $s->bind_param($types, ...$bound);
        foreach (str_split($values[$long], 3) as $chunk) $s->send_long_data($long, $chunk);
        $s->execute();
        $answers[] = ['affected' => $s->affected_rows];
    } catch (mysqli_sql_exception $e) {
        $answers[] = ['error' => $e->getCode(), 'message' => $e->getMessage()];
    }
}
$after = counters($m);
echo json_encode(['answers' => $answers, 'before' => $before, 'after' => $after]), "\n";
