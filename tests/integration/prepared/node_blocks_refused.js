'use strict';
// prepared_test.py blocks_refused: with sql_mode=ORACLE the server refuses uniqgate's own
// `BEGIN NOT ATOMIC` blocks (serialize's probe, dedup's guarded key insert); prepared INSERTs
// must then still be protected, by the paths without blocks; so must prepared UPDATEs (dedup's
// guarded key removal). Prints one JSON line of answers.
// Run from tests/integration/clients/node.
const path = require('path');
const mysql = require(path.join(process.cwd(), 'node_modules', 'mysql2', 'promise'));

(async () => {
  const c = await mysql.createConnection({
    host: process.env.UG_HOST, port: Number(process.env.UG_PORT), user: process.env.UG_USER,
    password: process.env.UG_PASSWORD, database: 'shop',
  });
  await c.query("SET SESSION sql_mode = 'ORACLE'");
  const insert = `INSERT INTO ${process.env.UG_TABLE} (name, model, price) VALUES (?, ?, ?)`;
  const answers = [];
  for (const row of [['ora', 'm', 1], ['ORA ', 'm', 2], ['other', 'm', 3]]) {
    try {
      const [r] = await c.execute(insert, row);
      answers.push({ affectedRows: r.affectedRows });
    } catch (e) {
      answers.push({ errno: e.errno, message: e.message });
    }
  }
  // A session whose first prepared write is an UPDATE moving keys: a soft delete, then a
  // rename onto the key it freed.
  const c2 = await mysql.createConnection({
    host: process.env.UG_HOST, port: Number(process.env.UG_PORT), user: process.env.UG_USER,
    password: process.env.UG_PASSWORD, database: 'shop',
  });
  await c2.query("SET SESSION sql_mode = 'ORACLE'");
  const updates = [
    [`UPDATE ${process.env.UG_TABLE} SET delete_status = 1 WHERE name = ?`, ['other']],
    [`UPDATE ${process.env.UG_TABLE} SET name = ? WHERE name = ?`, ['other', 'ora']],
  ];
  for (const [sql, values] of updates) {
    try {
      const [r] = await c2.execute(sql, values);
      answers.push({ affectedRows: r.affectedRows });
    } catch (e) {
      answers.push({ errno: e.errno, message: e.message });
    }
  }
  await c2.end();
  console.log(JSON.stringify(answers));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
