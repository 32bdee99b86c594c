'use strict';
// prepared_test.py own_writes_bound: prepared UPDATEs and DELETEs that move live keys of a rule
// table (soft delete, un-delete, rename, DELETE), then the session's own counters, read through the
// same connection (the backend session is the client's). Every one of these executes must have run
// as statements of the proxy's own with the client's values bound (COM_STMT_EXECUTE), never as SQL
// text. The rows are set up as text first. Prints one JSON line:
// {"answers": [...], "before": {...}, "after": {...}, "statements": N}. Run from
// tests/integration/clients/node.
const path = require('path');
const { connect, counters, runSteps } = require(path.join(__dirname, 'node_steps.js'));

(async () => {
  const t = process.env.UG_TABLE;
  const c = await connect({ charset: 'utf8mb4_general_ci' });
  await c.query(`INSERT INTO ${t} (name, model, price) VALUES ('a', 'm', 1), ('b', 'm', 2), ('c', 'm', 3), ('d', 'm', 4)`);
  const [[first]] = await c.query(`SELECT id FROM ${t} WHERE name = 'a'`);
  // A value that would break SQL if it were pasted: quotes, a backslash, a NUL, non-ASCII.
  const odd = "q'\\\\ \u0000é";
  const steps = [
    // soft delete by key: the key is free again (the text INSERT after it proves it)
    [`UPDATE ${t} SET delete_status = 1 WHERE name = ? AND model = ?`, ['a', 'm']],
    ['text', `INSERT INTO ${t} (name, model, price) VALUES ('a', 'm', 5)`],
    // un-delete onto the live key: 1062, nothing changes
    [`UPDATE ${t} SET delete_status = 0 WHERE id = ?`, [first.id]],
    // rename onto a live key: 1062
    [`UPDATE ${t} SET name = ? WHERE name = ? AND delete_status = 0`, ['b', 'c']],
    // rename to a value that must never be pasted into SQL
    [`UPDATE ${t} SET name = ? WHERE name = ? AND delete_status = 0`, [odd, 'c']],
    // its case variant is the same key
    [`UPDATE ${t} SET name = ? WHERE name = ? AND delete_status = 0`, [odd.toUpperCase(), 'd']],
    // DELETE frees the key
    [`DELETE FROM ${t} WHERE name = ? AND delete_status = ?`, ['b', 0]],
    ['text', `INSERT INTO ${t} (name, model, price) VALUES ('b', 'm', 6)`],
    // a parameter after the WHERE (LIMIT ?) and no row matching
    [`UPDATE ${t} SET delete_status = 1 WHERE name = ? AND delete_status = 0 ORDER BY id LIMIT ?`, [odd, 1]],
    [`UPDATE ${t} SET delete_status = 1 WHERE name = ? AND delete_status = 0 ORDER BY id LIMIT ?`, ['none', 1]],
    // inside the client's transaction: a soft delete, then an un-delete conflict; COMMIT
    ['text', 'START TRANSACTION'],
    [`UPDATE ${t} SET delete_status = 1 WHERE name = ? AND model = ?`, ['d', 'm']],
    [`UPDATE ${t} SET delete_status = 0 WHERE id = ?`, [first.id]],
    ['text', 'COMMIT'],
  ];
  const before = await counters(c);
  const answers = await runSteps(c, steps);
  const after = await counters(c);
  const statements = steps.filter(([sql]) => sql !== 'text').length;
  console.log(JSON.stringify({ answers, before, after, statements }));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
