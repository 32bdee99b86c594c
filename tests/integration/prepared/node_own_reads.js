'use strict';
// prepared_test.py own_reads_bound: prepared INSERTs on a rule table through uniqgate, then the
// session's own counters, read through the same connection (the backend session is the client's):
// the proxy's own statements (serialize's existence checks, dedup's key inserts) must have run as
// its own prepared statements, with the client's values bound (COM_STMT_PREPARE / COM_STMT_EXECUTE),
// never as SQL text. UG_WITH_TRANSACTION=1 adds two inserts inside a transaction. Prints one JSON
// line: {"answers": [...], "before": {...}, "after": {...}}. Run from tests/integration/clients/node.
const path = require('path');
const mysql = require(path.join(process.cwd(), 'node_modules', 'mysql2', 'promise'));

const COUNTERS = ['Com_stmt_prepare', 'Com_stmt_execute', 'Com_stmt_close', 'Questions'];

(async () => {
  const c = await mysql.createConnection({
    host: process.env.UG_HOST, port: Number(process.env.UG_PORT), user: process.env.UG_USER,
    password: process.env.UG_PASSWORD, database: 'shop', charset: 'utf8mb4_general_ci',
  });
  const status = async () => {
    const [rows] = await c.query(`SHOW SESSION STATUS WHERE Variable_name IN (${COUNTERS.map(() => '?').join(', ')})`, COUNTERS);
    return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
  };
  const before = await status();
  const insert = `INSERT INTO ${process.env.UG_TABLE} (name, model, price) VALUES (?, ?, ?)`;
  // A value that would break SQL if it were pasted: quotes, a backslash, a NUL, non-ASCII.
  // Then a row the server refuses after the proxy's own statement for its key went through
  // (a price out of range for INT, strict mode): the key must stay free for the next one.
  const rows = [["o'k\\\\ \u0000é", 'm', 1], ["O'K\\\\ \u0000É", 'm', 2], ['plain', 'm', 3], ['plain', 'm', 4],
    ['lost', 'm', 2 ** 40], ['lost', 'm', 7]];
  const answers = [];
  for (const row of rows) {
    try {
      const [r] = await c.execute(insert, row);
      answers.push({ affectedRows: r.affectedRows });
    } catch (e) {
      answers.push({ errno: e.errno, message: e.message });
    }
  }
  if (process.env.UG_WITH_TRANSACTION === '1') {
    // Inside the client's transaction: a new key, then a live one; the transaction goes on.
    await c.query('START TRANSACTION');
    for (const row of [['tx', 'm', 5], ['plain', 'm', 6]]) {
      try {
        const [r] = await c.execute(insert, row);
        answers.push({ affectedRows: r.affectedRows });
      } catch (e) {
        answers.push({ errno: e.errno, message: e.message });
      }
    }
    await c.query('COMMIT');
  }
  const after = await status();
  console.log(JSON.stringify({ answers, before, after }));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
