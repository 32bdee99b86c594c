'use strict';
// Shared by the node scripts of prepared_test.py: a mysql2 connection to uniqgate from the
// environment (UG_HOST, UG_PORT, UG_USER, UG_PASSWORD; database shop), the session's own
// statement counters, and running a list of statements. The scripts run from
// tests/integration/clients/node, where mysql2 is installed.
const path = require('path');
const mysql = require(path.join(process.cwd(), 'node_modules', 'mysql2', 'promise'));

const COUNTERS = ['Com_stmt_prepare', 'Com_stmt_execute', 'Com_stmt_close', 'Questions'];

const connect = (options = {}) => mysql.createConnection({
  host: process.env.UG_HOST, port: Number(process.env.UG_PORT), user: process.env.UG_USER,
  password: process.env.UG_PASSWORD, database: 'shop', ...options,
});

// The session's COM_STMT_* and Questions counters, read through the same connection.
async function counters(c) {
  const [rows] = await c.query(`SHOW SESSION STATUS WHERE Variable_name IN (${COUNTERS.map(() => '?').join(', ')})`,
    COUNTERS);
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
}

// Each step is [sql, values], executed as a prepared statement (mysql2 `execute`; with
// UG_TEXT=1 sent as text, mysql2 `query`) and answered {affectedRows} or {errno, message},
// or ['text', sql], sent as a query whose answer is not kept.
async function runSteps(c, steps) {
  const answers = [];
  for (const [sql, values] of steps) {
    try {
      if (sql === 'text') {
        await c.query(values);
        continue;
      }
      const [r] = process.env.UG_TEXT ? await c.query(sql, values) : await c.execute(sql, values);
      answers.push({ affectedRows: r.affectedRows });
    } catch (e) {
      answers.push({ errno: e.errno, message: e.message });
    }
  }
  return answers;
}

module.exports = { connect, counters, runSteps };
