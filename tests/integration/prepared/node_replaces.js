'use strict';
// prepared_test.py replace_bound: prepared REPLACEs on a rule table — of a new key, of a live key
// (its case variant: the live row holding it is replaced), through the primary key, through both
// at once, in autocommit and inside the client's transaction — then the session's own counters,
// read through the same connection. UG_TEXT=1: the same statements as text (mysql2 `query`).
// Prints one JSON line: {"answers": [...], "before": {...}, "after": {...}, "rows": [...]}.
// Run from tests/integration/clients/node.
const path = require('path');
const { connect, counters, runSteps } = require(path.join(__dirname, 'node_steps.js'));

(async () => {
  const t = process.env.UG_TABLE;
  const c = await connect({ charset: 'utf8mb4_general_ci' });
  const odd = "r'\\\\ \u0000é";  // would break SQL if pasted
  const replace = `REPLACE INTO ${t} (id, name, model, price) VALUES (?, ?, ?, ?)`;
  const steps = [
    [replace, [1, odd, 'm', 1]],               // a new key: 1
    [replace, [2, odd.toUpperCase(), 'm', 2]], // its case variant: row 1 replaced, 2
    [replace, [3, 'b', 'm', 3]],               // 1
    [replace, [3, 'c', 'm', 4]],               // row 3 replaced through the primary key: 2
    [replace, [3, odd, 'm', 5]],               // row 3 by id and row 2 by key: 3
    ['text', 'START TRANSACTION'],
    [replace, [4, 'd', 'm', 6]],               // 1
    [replace, [5, 'D', 'm', 7]],               // row 4 replaced: 2
    ['text', 'COMMIT'],
    [replace, [6, 'e', 'm', 3e9]],             // out of range for the price (INT): 1264, nothing changes
    [replace, [7, 'd', 'm', 8]],               // row 5 replaced: 2
  ];
  const before = await counters(c);
  const answers = await runSteps(c, steps);
  const after = await counters(c);
  const [rows] = await c.query(`SELECT id, name, model, price, delete_status FROM ${t} ORDER BY id`);
  console.log(JSON.stringify({ answers, before, after, rows }));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
