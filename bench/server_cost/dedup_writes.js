'use strict';
// The server's CPU per dedup-mode INSERT of a new key: the text multi-statement against
// the prepared pipeline uniqgate sends (guarded key insert, the execute, the commit block),
// the one-command block it sends for a lone row, and variants, from mariadbd's /proc/PID/stat over N writes per shape and round.
// (Re)creates shop.t and shop.d. Usage: node dedup_writes.js PORT MARIADBD_PID [N]
const fs = require('fs');
const path = require('path');
const mysql = require(path.join(__dirname, '..', '..', 'tests', 'integration', 'clients', 'node', 'node_modules', 'mysql2', 'promise'));
const [port, pid] = [Number(process.argv[2]), Number(process.argv[3])];
const N = Number(process.argv[4] || 8000);
// utime + stime of mariadbd in clock ticks (USER_HZ: 100 on Linux, so 10 ms each).
const ticks = () => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
const GUARD = 'BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; START TRANSACTION READ ONLY; RESIGNAL; END; START TRANSACTION; INSERT INTO shop.d (name, model) VALUES (?, ?); END';
const FINISH = 'BEGIN NOT ATOMIC IF ROW_COUNT() < 0 THEN ROLLBACK; ELSE COMMIT; END IF; END';
const INSERT = 'INSERT INTO shop.t (name, model, price) VALUES (?, ?, ?)';
// The key insert, the client's INSERT and the COMMIT in one prepared block that reports
// the INSERT's row count, insert id and warnings as a row (uniqgate's one-command shape).
const ONE_BLOCK = 'BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; ' +
  'START TRANSACTION; INSERT INTO shop.d (name, model) VALUES (?, ?); ' + INSERT +
  '\n; SELECT CAST(ROW_COUNT() AS CHAR), CAST(LAST_INSERT_ID() AS CHAR), CAST(@@warning_count AS CHAR); COMMIT; END';
let seq = 0;
const variants = {
  text_multi: async (c) => { const k = `k${seq++}`; await c.query(`START TRANSACTION; INSERT INTO shop.d (name, model) VALUES ('${k}', 'm'); INSERT INTO shop.t (name, model, price) VALUES ('${k}', 'm', 1); COMMIT`); },
  ps_guard_finish: async (c) => { const k = `k${seq++}`; await c.execute(GUARD, [k, 'm']); await c.execute(INSERT, [k, 'm', 1]); await c.execute(FINISH, []); },
  ps_guard_commit: async (c) => { const k = `k${seq++}`; await c.execute(GUARD, [k, 'm']); await c.execute(INSERT, [k, 'm', 1]); await c.query('COMMIT'); },
  ps_one_block: async (c) => { const k = `k${seq++}`; await c.execute(ONE_BLOCK, [k, 'm', k, 'm', 1]); },
  ps_no_blocks: async (c) => { const k = `k${seq++}`; await c.query('START TRANSACTION'); await c.execute('INSERT INTO shop.d (name, model) VALUES (?, ?)', [k, 'm']); await c.execute(INSERT, [k, 'm', 1]); await c.query('COMMIT'); },
  text_insert_only: async (c) => { const k = `k${seq++}`; await c.query(`INSERT INTO shop.t (name, model, price) VALUES ('${k}', 'm', 1)`); },
  ps_insert_only: async (c) => { const k = `k${seq++}`; await c.execute(INSERT, [k, 'm', 1]); },
};
(async () => {
  const c = await mysql.createConnection({ host: '127.0.0.1', port, user: process.env.SC_USER || 'app', password: process.env.SC_PASSWORD || 'app_pw', database: 'shop', multipleStatements: true });
  await c.query('DROP TABLE IF EXISTS shop.t, shop.d');
  await c.query('CREATE TABLE shop.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL, model VARCHAR(64) NOT NULL, price INT NOT NULL DEFAULT 0, delete_status TINYINT NOT NULL DEFAULT 0, KEY k_name_model (name, model)) ENGINE=InnoDB');
  await c.query('CREATE TABLE shop.d (name VARCHAR(64) NOT NULL, model VARCHAR(64) NOT NULL, PRIMARY KEY (name, model)) ENGINE=InnoDB');
  const out = {};
  for (const round of [0, 1, 2]) {
    for (const [name, run] of Object.entries(variants)) {
      for (let i = 0; i < 100; i++) await run(c);
      const t0 = ticks();
      for (let i = 0; i < N; i++) await run(c);
      (out[name] = out[name] || []).push(((ticks() - t0) * 10000 / N).toFixed(1));
    }
  }
  for (const [key, v] of Object.entries(out)) console.log(key, v.join(' '));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
