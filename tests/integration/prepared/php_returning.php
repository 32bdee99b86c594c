<?php
// prepared_test.py returning: PHP mysqli prepare / bind_param / execute / get_result of an
// INSERT ... RETURNING, a new key, the same key again, another new key. Prints one JSON line per
// execute: the rows, or {"errno": n}.
mysqli_report(MYSQLI_REPORT_OFF);
$c = new mysqli(getenv('UG_HOST'), getenv('UG_USER'), getenv('UG_PASSWORD'), 'shop', (int) getenv('UG_PORT'));
if ($c->connect_errno) {
    echo json_encode(['connect' => $c->connect_error]), "\n";
    exit(1);
}
$table = getenv('UG_TABLE');
foreach ([['php1', 'm'], ['PHP1', 'm'], ['php2', 'm']] as [$name, $model]) {
    $s = $c->prepare("INSERT INTO $table (name, model, price) VALUES (?, ?, 1) RETURNING id, name");
    if (!$s) {
        echo json_encode(['errno' => $c->errno, 'message' => $c->error]), "\n";
        continue;
    }
    $s->bind_param('ss', $name, $model);
    if (!$s->execute()) {
        echo json_encode(['errno' => $s->errno, 'message' => $s->error]), "\n";
    } else {
        echo json_encode($s->get_result()->fetch_all(MYSQLI_ASSOC)), "\n";
    }
    $s->close();
}
