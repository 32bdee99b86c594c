'use strict';
// prepared_test.py own_upserts_bound: prepared INSERTs that a duplicate turns into something
// else — the client's INSERT IGNORE and INSERT ... ON DUPLICATE KEY UPDATE (rule on_duplicate:
// error, table UG_TABLE), a rule with
// on_duplicate: ignore (UG_TABLE_IGNORE) and one with on_duplicate: update (UG_TABLE_UPDATE) —
// then the session's own counters, read through the same connection. Prints one JSON line:
// {"answers": [...], "before": {...}, "after": {...}}. Run from tests/integration/clients/node.
const path = require('path');
const { connect, counters, runSteps } = require(path.join(__dirname, 'node_steps.js'));

(async () => {
  const { UG_TABLE: t, UG_TABLE_IGNORE: ti, UG_TABLE_UPDATE: tu } = process.env;
  const c = await connect({ charset: 'utf8mb4_general_ci' });
  await c.query(`INSERT INTO ${t} (id, name, model, price) VALUES (100, 'taken_id', 'm', 0)`);
  const odd = "o'k\\\\ \u0000é";  // would break SQL if pasted
  const steps = [
    [`INSERT IGNORE INTO ${t} (name, model, price) VALUES (?, ?, ?)`, [odd, 'm', 1]],
    [`INSERT IGNORE INTO ${t} (name, model, price) VALUES (?, ?, ?)`, [odd.toUpperCase(), 'm', 2]],
    // a row the server itself skips (its id is taken): the key claimed for it is released
    [`INSERT IGNORE INTO ${t} (id, name, model, price) VALUES (?, ?, ?, ?)`, [100, 'released', 'm', 3]],
    // INSERT ... ON DUPLICATE KEY UPDATE: a new key, then its case variant, which updates the
    // live row holding the key
    [`INSERT INTO ${t} (name, model, price) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE price = ?`, ['up', 'm', 1, 1]],
    [`INSERT INTO ${t} (name, model, price) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE price = ?`, ['UP', 'm', 5, 7]],
    [`INSERT INTO ${ti} (name, model, price) VALUES (?, ?, ?)`, [odd, 'm', 1]],
    [`INSERT INTO ${ti} (name, model, price) VALUES (?, ?, ?)`, [`${odd} `, 'm', 2]],
    [`INSERT INTO ${tu} (name, model, price) VALUES (?, ?, ?)`, [odd, 'm', 1]],
    [`INSERT INTO ${tu} (name, model, price) VALUES (?, ?, ?)`, [odd.toUpperCase(), 'm', 9]],
  ];
  const before = await counters(c);
  const answers = await runSteps(c, steps);
  const after = await counters(c);
  const [[updated]] = await c.query(`SELECT name, price FROM ${tu} WHERE delete_status = 0`);
  const [[upserted]] = await c.query(`SELECT name, price FROM ${t} WHERE name = 'up' AND delete_status = 0`);
  console.log(JSON.stringify({ answers, before, after, updated, upserted }));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
