'use strict';
// node mysql2 workload, printed deterministically for harness/run.py compare.
// Covers: query (text) and execute (binary protocol), multiple statements, a procedure with
// several result sets, COM_CHANGE_USER (changeUser), COM_RESET_CONNECTION (reset), COM_PING,
// LOAD DATA LOCAL INFILE, a 17 MiB parameter, pooled connections; plain TCP and TLS.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
let mysql;
try {
  mysql = require('mysql2/promise');
} catch (e) {
  console.error('mysql2 is missing: run scripts/install-deps.sh (npm ci in tests/integration/clients/node)');
  process.exit(1);
}

const T = 'node';
const show = (label, value) => console.log(`${label}: ${JSON.stringify(value)}`);
const err = async (fn) => {
  try { await fn(); return 'no error'; } catch (e) { return `${e.errno} ${e.sqlState} ${e.code} ${e.message}`; }
};

function options(tls, extra = {}) {
  return {
    host: process.env.UG_HOST, port: Number(process.env.UG_PORT), user: process.env.UG_USER,
    password: process.env.UG_PASSWORD, database: 'shop', multipleStatements: true, dateStrings: true,
    supportBigNumbers: true, bigNumberStrings: true, connectTimeout: 10000, charset: 'utf8mb4_general_ci',
    ssl: tls ? { rejectUnauthorized: false } : undefined,
    infileStreamFactory: (p) => fs.createReadStream(p),
    ...extra,
  };
}

async function basic(c) {
  await c.query(`DROP TABLE IF EXISTS ${T}_items`);
  await c.query(`CREATE TABLE ${T}_items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,
      model VARCHAR(20), qty INT, price DECIMAL(10,2), ts DATETIME, delete_status TINYINT NOT NULL DEFAULT 0)`);
  let [r] = await c.query(`INSERT INTO ${T}_items (name, model, qty, price, ts) VALUES ?`,
    [[['a', 'A', 1, '1.50', '2024-01-01 00:00:00'], ['b', null, 2, null, null], ['ü ✓', 'X', -3, '9.99', '2000-02-29 23:59:59']]]);
  show('query insert', [r.affectedRows, r.insertId, r.info, r.warningStatus]);
  [r] = await c.execute(`INSERT INTO ${T}_items (name, model, qty, price, ts) VALUES (?, ?, ?, ?, ?)`, ['e', 'E', 10, '2.50', '2024-05-05 05:05:05']);
  show('execute insert', [r.affectedRows, r.insertId]);
  for (let i = 0; i < 50; i++) await c.execute(`INSERT INTO ${T}_items (name, qty) VALUES (?, ?)`, [`x${i}`, i]);
  let [rows, fields] = await c.query(`SELECT * FROM ${T}_items WHERE id <= ? ORDER BY id`, [4]);
  show('query fields', fields.map((f) => [f.name, f.columnType, f.flags]));
  show('query rows', rows);
  [rows, fields] = await c.execute(`SELECT id, name, model, qty, price, ts FROM ${T}_items WHERE qty > ? ORDER BY id LIMIT 5`, [1]);
  show('execute fields', fields.map((f) => [f.name, f.columnType]));
  show('execute rows', rows);
  [rows] = await c.execute('SELECT ? AS s, ? AS i, ? AS d, ? AS n, ? AS b', ['str ✓', 42, 1.5, null, Buffer.from([0, 255])]);
  show('execute params', rows.map((x) => ({ ...x, b: x.b.toString('hex') })));
  [r] = await c.execute(`UPDATE ${T}_items SET qty = qty + 1 WHERE qty < ?`, [10]);
  show('execute update', [r.affectedRows, r.changedRows, r.info]);
  show('duplicate', await err(() => c.query(`INSERT INTO ${T}_items (id, name) VALUES (1, 'x')`)));
  show('execute duplicate', await err(() => c.execute(`INSERT INTO ${T}_items (id, name) VALUES (?, ?)`, [1, 'x'])));
  show('syntax', await err(() => c.query('SELEC 1')));
  show('bad prepare', await err(() => c.execute('SELECT * FROM no_such_table WHERE id = ?', [1])));
  await c.query("SELECT CAST('1x' AS SIGNED)");
  [rows] = await c.query('SHOW WARNINGS');
  show('warnings', rows);
}

async function multi(c) {
  await c.query(`DROP PROCEDURE IF EXISTS ${T}_report`);
  await c.query(`CREATE PROCEDURE ${T}_report(IN lim INT) BEGIN
      SELECT COUNT(*) AS n FROM ${T}_items; SELECT id, name FROM ${T}_items ORDER BY id LIMIT lim;
      SELECT 'done' AS status; END`);
  const strip = (res) => (Array.isArray(res) ? res.map(strip) : res && res.affectedRows !== undefined
    ? { affectedRows: res.affectedRows, insertId: res.insertId } : res);
  show('call via query', strip((await c.query(`CALL ${T}_report(?)`, [2]))[0]));
  show('call via execute', strip((await c.execute(`CALL ${T}_report(?)`, [1]))[0]));
  show('multi', strip((await c.query(`SELECT 1 AS a; SELECT 'two' AS b; UPDATE ${T}_items SET qty = 0 WHERE id = 1; SELECT @@autocommit AS ac`))[0]));
  show('multi with error', await err(() => c.query('SELECT 1; SELECT * FROM no_such_table; SELECT 3')));
  show('still usable', (await c.query('SELECT 5 AS five'))[0]);
  await c.query(`DROP PROCEDURE ${T}_report`);
}

async function session(c, workdir) {
  // COM_CHANGE_USER
  await c.query('SET @v := 1');
  await c.query(`CREATE TEMPORARY TABLE ${T}_tmp (x INT)`);
  await c.changeUser({ user: 'app2', password: 'app2_pw', database: 'shop' });
  show('after changeUser', (await c.query('SELECT CURRENT_USER() AS u, DATABASE() AS db, @v AS v'))[0]);
  show('temp table after changeUser', await err(() => c.query(`SELECT * FROM ${T}_tmp`)));
  show('app2 privileges', await err(() => c.query('SELECT COUNT(*) FROM mysql.user')));
  show('execute after changeUser', (await c.execute('SELECT ? + 1 AS x', [1]))[0]);
  await c.changeUser({ user: process.env.UG_USER, password: process.env.UG_PASSWORD, database: 'shop' });
  show('after changeUser back', (await c.query('SELECT CURRENT_USER() AS u, DATABASE() AS db'))[0]);
  // COM_RESET_CONNECTION
  await c.query('SET @v := 2');
  await c.query(`CREATE TEMPORARY TABLE ${T}_tmp (x INT)`);
  await c.reset();
  show('after reset', (await c.query('SELECT @v AS v, DATABASE() AS db, CURRENT_USER() AS u'))[0]);
  show('temp table after reset', await err(() => c.query(`SELECT * FROM ${T}_tmp`)));
  show('execute after reset', (await c.execute('SELECT ? * 2 AS x', [21]))[0]);
  await c.ping();
  show('ping', 'ok');
  // LOAD DATA LOCAL INFILE
  const file = path.join(workdir, 'load.tsv');
  fs.writeFileSync(file, Array.from({ length: 3000 }, (_, i) => `ld${i}\tL${i % 3}\t${i}`).join('\n') + '\n');
  const [r] = await c.query({ sql: `LOAD DATA LOCAL INFILE ? INTO TABLE ${T}_items (name, model, qty)`, values: [file] });
  show('load data', [r.affectedRows, r.info]);
  show('loaded', (await c.query(`SELECT COUNT(*) AS n, SUM(qty) AS s FROM ${T}_items WHERE name LIKE 'ld%'`))[0]);
}

async function bigParam(c) {
  const big = crypto.createHash('sha256').update('seed').digest();
  const buf = Buffer.alloc(17 * 1024 * 1024 + 5);
  for (let i = 0; i < buf.length; i += big.length) big.copy(buf, i);
  const sha = crypto.createHash('sha256').update(buf).digest('hex');
  await c.query(`DROP TABLE IF EXISTS ${T}_blobs`);
  await c.query(`CREATE TABLE ${T}_blobs (id INT PRIMARY KEY, b LONGBLOB)`);
  await c.execute(`INSERT INTO ${T}_blobs VALUES (?, ?)`, [1, buf]);
  const [rows] = await c.execute(`SELECT b, SHA2(b, 256) AS sha FROM ${T}_blobs WHERE id = ?`, [1]);
  const got = rows[0].b;
  const ok = Buffer.compare(got, buf) === 0 && rows[0].sha === sha;
  show('17 MiB blob', [got.length, sha.slice(0, 16), ok ? 'roundtrip ok' : 'MISMATCH']);
  if (!ok) process.exitCode = 1;
  await c.query(`DROP TABLE ${T}_blobs`);
}

async function pooled(tls) {
  const pool = mysql.createPool(options(tls, { connectionLimit: 4 }));
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    (i % 2 ? pool.query('SELECT ? + 1 AS x', [i]) : pool.execute('SELECT ? + 1 AS x', [i])).then(([r]) => Number(r[0].x))));
  show('pool results', [results.length, results.reduce((a, b) => a + b, 0)]);
  const conn = await pool.getConnection();
  await conn.beginTransaction();
  await conn.query(`INSERT INTO ${T}_items (name) VALUES ('pool-rb')`);
  await conn.rollback();
  await conn.beginTransaction();
  await conn.execute(`INSERT INTO ${T}_items (name) VALUES (?)`, ['pool-c']);
  await conn.commit();
  conn.release();
  show('pool transactions', (await pool.query(`SELECT SUM(name = 'pool-rb') AS rb, SUM(name = 'pool-c') AS c FROM ${T}_items`))[0]);
  await pool.end();
}

async function main() {
  const workdir = path.join(process.env.UG_IT_STATE || '/tmp', 'work', 'node');
  fs.mkdirSync(workdir, { recursive: true });
  for (const tls of [false, true]) {
    console.log(`==== tls=${tls}`);
    const c = await mysql.createConnection(options(tls));
    await basic(c);
    await multi(c);
    await session(c, workdir);
    await bigParam(c);
    await pooled(tls);
    await c.query(`DROP TABLE ${T}_items`);
    await c.end();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
