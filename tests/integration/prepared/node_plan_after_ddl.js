'use strict';
// prepared_test.py plan_after_ddl: one prepared INSERT without a column list, executed before and
// after an ALTER TABLE (sent through uniqgate) moves `price` in front of the key columns: the
// same `?` then fills another column. The proxy keeps the plan of a prepared statement between
// executes; the ALTER must make it plan again, or its own statements would bind the key from
// the old positions. Prints one JSON line: {"answers": [...]}.
const path = require('path');
const { connect, runSteps } = require(path.join(__dirname, 'node_steps.js'));

(async () => {
  const t = process.env.UG_TABLE;
  const c = await connect();
  const insert = `INSERT INTO ${t} VALUES (?, ?, ?, ?, NULL, 0)`;
  const steps = [
    [insert, [1, 'k', 'a', 1]],  // id, name, model, price: (k, a)
    ['text', `ALTER TABLE ${t} MODIFY price INT AFTER id`],
    [insert, [2, 5, 'k', 'b']],  // id, price, name, model: (k, b), free
    [insert, [3, 6, 'k', 'a']],  // (k, a): 1062
    [insert, [4, 7, 'k', 'b']],  // (k, b): 1062
  ];
  const answers = await runSteps(c, steps);
  console.log(JSON.stringify({ answers }));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
