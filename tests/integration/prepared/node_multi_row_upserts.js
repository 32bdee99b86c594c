'use strict';
// prepared_test.py multi_row_upserts_bound: prepared multi-row INSERTs some of whose rows a live
// key turns into something else — the client's INSERT IGNORE and INSERT ... ON DUPLICATE KEY
// UPDATE (rule on_duplicate: error, table UG_TABLE), a rule with on_duplicate: ignore
// (UG_TABLE_IGNORE), one with on_duplicate: update (UG_TABLE_UPDATE) — then the session's own counters, read through the same connection.
// UG_TEXT=1: the same statements as text (mysql2 `query`). Prints one JSON line:
// {"answers": [...], "before": {...}, "after": {...}, "rows": {...}}. Run from
// tests/integration/clients/node.
const path = require('path');
const { connect, counters, runSteps } = require(path.join(__dirname, 'node_steps.js'));

(async () => {
  const { UG_TABLE: t, UG_TABLE_IGNORE: ti, UG_TABLE_UPDATE: tu } = process.env;
  const c = await connect({ charset: 'utf8mb4_general_ci' });
  await c.query(`INSERT INTO ${t} (name, model, price) VALUES ('x', 'm', 0)`);
  await c.query(`INSERT INTO ${t} (id, name, model, price) VALUES (100, 'taken_id', 'm', 0)`);
  await c.query(`INSERT INTO ${tu} (name, model, price) VALUES ('u', 'm', 0)`);
  const odd = "m'k\\\\ \u0000é";  // would break SQL if pasted
  const three = '(?, ?, ?), (?, ?, ?), (?, ?, ?)';
  const steps = [
    // a new key, the live x's case variant (skipped), another new key: 2
    [`INSERT IGNORE INTO ${t} (name, model, price) VALUES ${three}`, [odd, 'm', 1, 'X', 'm', 2, 'y', 'm', 3]],
    // a row the server itself skips (its id is taken), a new key: 1, the skipped row's key released
    [`INSERT IGNORE INTO ${t} (id, name, model, price) VALUES (?, ?, ?, ?), (?, ?, ?, ?)`,
      [100, 'released', 'm', 1, null, 'w', 'm', 2]],
    // a key, its own case variant in the same statement (the first wins), a new key: 2
    [`INSERT INTO ${ti} (name, model, price) VALUES ${three}`, [odd, 'm', 1, odd.toUpperCase(), 'm', 2, 'z', 'm', 3]],
    // onto the live u (its price updated: 2), a new key (1)
    [`INSERT INTO ${tu} (name, model, price) VALUES (?, ?, ?), (?, ?, ?)`, ['U', 'm', 9, 'v', 'm', 2]],
    // inside the client's transaction: a live key skipped, a new one
    ['text', 'START TRANSACTION'],
    [`INSERT IGNORE INTO ${t} (name, model, price) VALUES (?, ?, ?), (?, ?, ?)`, ['y', 'm', 4, 'tx', 'm', 5]],
    ['text', 'COMMIT'],
    // INSERT ... ON DUPLICATE KEY UPDATE onto two live keys (their case variants: each live row
    // updated, 2 + 2) and a new key (1)
    [`INSERT INTO ${t} (name, model, price) VALUES ${three} ON DUPLICATE KEY UPDATE price = VALUES(price) + ?`,
      ['X', 'm', 7, 'odk', 'm', 1, 'Y', 'm', 8, 100]],
  ];
  const before = await counters(c);
  const answers = await runSteps(c, steps);
  const after = await counters(c);
  const rows = {};
  for (const [label, table] of [['t', t], ['ti', ti], ['tu', tu]]) {
    [rows[label]] = await c.query(`SELECT name, model, price, delete_status FROM ${table} ORDER BY name, price`);
  }
  console.log(JSON.stringify({ answers, before, after, rows }));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
