'use strict';
// prepared_test.py clients for node mysql2: COUNT connections in one process, each running
// DIR/planI.tsv with execute() (the binary protocol: COM_STMT_PREPARE once per statement text and
// connection, then COM_STMT_EXECUTE) and writing DIR/outI.tsv. Run with the working directory
// tests/integration/clients/node (where mysql2 is installed). Usage: node node_client.js DIR COUNT
const fs = require('fs');
const path = require('path');
const mysql = require(path.join(process.cwd(), 'node_modules', 'mysql2', 'promise'));

const [dir, count] = [process.argv[2], Number(process.argv[3])];
const deadline = Date.now() + 1000 * Number(process.env.UG_BUDGET_S || 60);
const table = process.env.UG_TABLE;
const insertSql = `INSERT INTO ${table} (name, model, price, note) VALUES (?, ?, ?, ?)`;
const deleteSql = `UPDATE ${table} SET delete_status = 1 WHERE name = ? AND model = ? AND delete_status = 0`;
const clean = (v) => String(v).replace(/[\t\n]/g, ' ');

async function client(i) {
  const plan = fs.readFileSync(path.join(dir, `plan${i}.tsv`), 'utf8').split('\n').filter(Boolean);
  const lines = [];
  const emit = (fields) => lines.push(fields.map(clean).join('\t'));
  const c = await mysql.createConnection({
    host: process.env.UG_HOST, port: Number(process.env.UG_PORT), user: process.env.UG_USER,
    password: process.env.UG_PASSWORD, database: 'shop', charset: 'utf8mb4_general_ci', connectTimeout: 10000,
  });
  const insert = async (ctx, name, model, price, sink) => {
    try {
      const [r] = await c.execute(insertSql, [name, model, price, `n${price}`]);
      sink(['ins', name, model, ctx, 'OK', r.affectedRows, r.insertId]);
      return true;
    } catch (e) {
      if (e.errno === undefined) throw e;
      sink(['ins', name, model, ctx, 'ERR', e.errno, e.sqlState, e.message]);
      return false;
    }
  };
  try {
    for (const line of plan) {
      if (Date.now() > deadline) throw new Error('time budget used up');
      const op = line.split('\t');
      if (op[0] === 'ins') {
        await insert('auto', op[1], op[2], Number(op[3]), emit);
      } else if (op[0] === 'delre') {
        try {
          const [r] = await c.execute(deleteSql, [op[1], op[2]]);
          emit(['del', op[1], op[2], 'auto', 'OK', r.affectedRows]);
        } catch (e) {
          if (e.errno === undefined) throw e;
          emit(['del', op[1], op[2], 'auto', 'ERR', e.errno, e.sqlState, e.message]);
        }
        await insert('auto', op[1], op[2], 7, emit);
      } else if (op[0] === 'txn') {
        const held = [];
        let failed = false;
        await c.query('BEGIN');
        for (let k = 2; k + 1 < op.length; k += 2) {
          if (!(await insert('TXN', op[k], op[k + 1], 3, (f) => held.push(f)))) { failed = true; break; }
        }
        const commit = op[1] === 'commit' && !failed;
        await c.query(commit ? 'COMMIT' : 'ROLLBACK');
        for (const f of held) { f[3] = commit ? 'txc' : 'txr'; emit(f); }
      } else {
        throw new Error(`unknown plan line ${line}`);
      }
    }
  } finally {
    fs.writeFileSync(path.join(dir, `out${i}.tsv`), lines.map((l) => l + '\n').join(''));
    await c.end().catch(() => {});
  }
}

Promise.all(Array.from({ length: count }, (_, i) => client(i))).then(
  () => process.exit(0),
  (e) => { console.error(e); process.exit(1); });
