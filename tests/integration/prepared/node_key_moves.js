'use strict';
// prepared_test.py key_moves: UG_CLIENTS connections at once, each running UG_OPS prepared
// statements (mysql2 `execute`) that move live keys of a rule table over a small key space:
// INSERT, soft delete by key, un-delete by id, rename of the live row by key, DELETE by key,
// INSERT ... ON DUPLICATE KEY UPDATE, REPLACE. The errors are tallied
// by code and statement kind; the database is counted afterwards by the caller. Prints one JSON
// line: {"ok": N, "errors": {"1062 insert": N, ...}, "messages": [...]}. Run from tests/integration/clients/node.
const path = require('path');
const mysql = require(path.join(process.cwd(), 'node_modules', 'mysql2', 'promise'));

const t = process.env.UG_TABLE;
const clients = Number(process.env.UG_CLIENTS || 12);
const ops = Number(process.env.UG_OPS || 120);
const names = ['k0', 'k1', 'k2', 'k3', 'K3 ', 'k4', "k'5", 'k\\6'];
let seed = Number(process.env.UG_SEED || 1);
const random = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const pick = (list) => list[random(list.length)];

const statements = [
  () => ['insert', `INSERT INTO ${t} (name, model, price) VALUES (?, ?, ?)`, [pick(names), 'm', random(100)]],
  () => ['soft_delete', `UPDATE ${t} SET delete_status = 1 WHERE name = ? AND model = ? AND delete_status = 0`,
    [pick(names), pick(['m', 'u'])]],
  () => ['undelete', `UPDATE ${t} SET delete_status = 0 WHERE id = ?`, [1 + random(40)]],
  () => ['rename', `UPDATE ${t} SET name = ? WHERE name = ? AND model = ? AND delete_status = 0`,
    [pick(names), pick(names), 'm']],
  () => ['delete', `DELETE FROM ${t} WHERE name = ? AND model = ? AND delete_status = 1`, [pick(names), 'm']],
  () => ['upsert', `INSERT INTO ${t} (name, model, price) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE price = ?`,
    [pick(names), pick(['m', 'u']), random(100), random(100)]],
  // through the live key, and now and then through the primary key of another row
  () => ['replace', `REPLACE INTO ${t} (id, name, model, price) VALUES (?, ?, ?, ?)`,
    [random(4) === 0 ? 1 + random(40) : null, pick(names), 'm', random(100)]],
];
// Un-deletes and renames (the statements that make keys live) more often than the others.
const weights = [2, 1, 3, 3, 1, 1, 1];
const weighted = statements.flatMap((statement, i) => Array(weights[i]).fill(statement));

(async () => {
  const tally = { ok: 0, errors: {}, messages: [] };
  const run = async () => {
    const c = await mysql.createConnection({
      host: process.env.UG_HOST, port: Number(process.env.UG_PORT), user: process.env.UG_USER,
      password: process.env.UG_PASSWORD, database: 'shop',
    });
    for (let i = 0; i < ops; i++) {
      const [kind, sql, values] = pick(weighted)();
      try {
        await c.execute(sql, values);
        tally.ok += 1;
      } catch (e) {
        const code = `${e.errno} ${kind}`;
        tally.errors[code] = (tally.errors[code] || 0) + 1;
        if (e.errno !== 1062 && tally.messages.length < 5) tally.messages.push(`${e.errno} ${e.message} (${sql})`);
      }
    }
    await c.end();
  };
  await Promise.all(Array.from({ length: clients }, run));
  console.log(JSON.stringify(tally));
})().catch((e) => { console.error(e); process.exit(1); });
