'use strict';
// prepared_test.py temporary_table: prepared INSERTs (mysql2 execute) on a rule table's name
// while the session has a TEMPORARY table of that name, one prepared before the temporary
// table existed, one after; a second connection writes the rule table meanwhile. With
// UG_DDL_PREPARED=1 the CREATE TEMPORARY TABLE and DROP TEMPORARY TABLE are prepared
// statements too (execute), otherwise text (query). Prints one JSON line:
// {"answers": [[label, answer], ...]}, an answer {affectedRows} or {errno}.
// Run from tests/integration/clients/node.
const path = require('path');
const mysql = require(path.join(process.cwd(), 'node_modules', 'mysql2', 'promise'));

(async () => {
  const options = {
    host: process.env.UG_HOST, port: Number(process.env.UG_PORT), user: process.env.UG_USER,
    password: process.env.UG_PASSWORD, database: 'shop',
  };
  const [a, b] = [await mysql.createConnection(options), await mysql.createConnection(options)];
  const t = process.env.UG_TABLE;
  const insert = `INSERT INTO ${t} (name, model, price) VALUES (?, ?, ?)`;
  const ddlPrepared = process.env.UG_DDL_PREPARED === '1';
  const answers = [];
  const run = async (label, c, sql, params = [], prepared = true) => {
    try {
      const [r] = prepared ? await c.execute(sql, params) : await c.query(sql, params);
      answers.push([label, { affectedRows: r.affectedRows }]);
    } catch (e) {
      answers.push([label, { errno: e.errno, message: e.message }]);
    }
  };
  await run('a: live (k, m)', a, insert, ['k', 'm', 1]);
  await run('a: create the temporary table', a, `CREATE TEMPORARY TABLE ${t} (id INT AUTO_INCREMENT PRIMARY KEY, `
    + 'name VARCHAR(100), model VARCHAR(100), price INT, note VARCHAR(50), delete_status TINYINT NOT NULL DEFAULT 0)', [],
  ddlPrepared);
  await run('a: (k, m) into it, prepared before it existed', a, insert, ['k', 'm', 2]);
  await run('a: (t, m) into it', a, insert, ['t', 'm', 3]);
  await run('a: (t, m) again, prepared after it existed', a, `${insert} /* new */`, ['t', 'm', 4]);
  await run('b: (t, m) into the rule table', b, insert, ['t', 'm', 5]);
  await run('b: (k, m) into the rule table', b, insert, ['k', 'm', 6]);
  await run('a: drop the temporary table', a, `DROP TEMPORARY TABLE ${t}`, [], ddlPrepared);
  await run('a: (t, m) into the rule table', a, insert, ['t', 'm', 7]);
  await run('a: (v, m) into the rule table', a, insert, ['v', 'm', 8]);
  console.log(JSON.stringify({ answers }));
  await a.end();
  await b.end();
})().catch((e) => { console.error(e); process.exit(1); });
