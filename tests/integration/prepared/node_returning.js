'use strict';
// prepared_test.py returning: 12 node mysql2 connections at once execute a prepared
// INSERT ... RETURNING (MariaDB's) for the same keys, each in its own order; half of them inside
// their own transactions (beginTransaction / commit). Every key is tried by every connection, so
// most executes repeat a live key (and the key gets hot). Each answer must be either the new
// row (one row: its id and key) or 1062. Prints one JSON line:
// {"inserted": [[id, name, model], ...], "duplicates": n, "other": [...], "bad": [...]}.
// Run from tests/integration/clients/node.
const path = require('path');
const mysql = require(path.join(process.cwd(), 'node_modules', 'mysql2', 'promise'));

const CONNECTIONS = 12;
const KEYS = 40;

function shuffled(n, seed) {
  const order = Array.from({ length: n }, (_, i) => i);
  let x = seed;
  for (let i = n - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const j = x % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

async function client(index, out) {
  const c = await mysql.createConnection({
    host: process.env.UG_HOST, port: Number(process.env.UG_PORT), user: process.env.UG_USER,
    password: process.env.UG_PASSWORD, database: 'shop',
  });
  const insert = `INSERT INTO ${process.env.UG_TABLE} (name, model, price) VALUES (?, ?, ?) RETURNING id, name, model`;
  const inTransaction = index % 2 === 1;
  for (const k of shuffled(KEYS, index + 1)) {
    const name = `k${k}`;
    if (inTransaction) await c.beginTransaction();
    try {
      const [rows] = await c.execute(insert, [name, 'm', index]);
      if (!Array.isArray(rows) || rows.length !== 1 || rows[0].name !== name || rows[0].model !== 'm' || !(rows[0].id > 0)) {
        out.bad.push({ name, rows });
      } else {
        out.inserted.push([rows[0].id, rows[0].name, rows[0].model]);
      }
      if (inTransaction) await c.commit();
    } catch (e) {
      if (e.errno === 1062) out.duplicates += 1;
      else out.other.push({ name, errno: e.errno, message: e.message });
      if (inTransaction) await c.rollback();
    }
  }
  await c.end();
}

(async () => {
  const out = { inserted: [], duplicates: 0, other: [], bad: [] };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => client(i, out)));
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
