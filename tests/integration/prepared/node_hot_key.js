'use strict';
// prepared_test.py hot_key_bound: one prepared INSERT executed again and again with a key that is
// live (a hot key), then with a new key and the hot one again, then the session's own counters.
// UG_WITHOUT_MULTI_RESULTS=1 connects without CLIENT_MULTI_RESULTS (a client that takes no
// result set from a block). Prints one JSON line: {"answers": [...], "before": {...}, "after": {...}}.
// Run from tests/integration/clients/node.
const path = require('path');
const mysql = require(path.join(process.cwd(), 'node_modules', 'mysql2', 'promise'));

const COUNTERS = ['Com_stmt_prepare', 'Com_stmt_execute', 'Com_stmt_close', 'Questions'];

(async () => {
  const c = await mysql.createConnection({
    host: process.env.UG_HOST, port: Number(process.env.UG_PORT), user: process.env.UG_USER,
    password: process.env.UG_PASSWORD, database: 'shop',
    flags: process.env.UG_WITHOUT_MULTI_RESULTS === '1' ? ['-MULTI_RESULTS'] : [],
  });
  const status = async () => {
    const [rows] = await c.query(`SHOW SESSION STATUS WHERE Variable_name IN (${COUNTERS.map(() => '?').join(', ')})`, COUNTERS);
    return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
  };
  const insert = `INSERT INTO ${process.env.UG_TABLE} (name, model, price) VALUES (?, ?, ?)`;
  const keys = ['hot', 'hot', 'hot', 'hot', 'hot', 'hot', 'hot', 'hot', 'cold', 'hot', 'warm'];
  const before = await status();
  const answers = [];
  for (const [i, name] of keys.entries()) {
    try {
      const [r] = await c.execute(insert, [name, 'm', i]);
      answers.push({ affectedRows: r.affectedRows, insertId: r.insertId });
    } catch (e) {
      answers.push({ errno: e.errno, message: e.message });
    }
  }
  const after = await status();
  console.log(JSON.stringify({ answers, before, after }));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
