'use strict';
// The server's CPU per batched existence check: text literals against bound parameters
// (as CheckBatcher sends them) and two bound variants, from mariadbd's /proc/PID/stat over
// N queries per shape and round. Needs shop.t (bench/server_cost/run.sh makes it).
// Usage: node checks.js PORT MARIADBD_PID [N]
const fs = require('fs');
const path = require('path');
const mysql = require(path.join(__dirname, '..', '..', 'tests', 'integration', 'clients', 'node', 'node_modules', 'mysql2', 'promise'));
const [port, pid] = [Number(process.argv[2]), Number(process.argv[3])];
const N = Number(process.argv[4] || 20000);
// utime + stime of mariadbd in clock ticks (USER_HZ: 100 on Linux, so 10 ms each).
const ticks = () => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
function shapes(k) {
  const keys = []; for (let i = 0; i < k; i++) keys.push([`absent-${i}-`, `m${i}`]);
  const lit = (s) => `'${s}'`;
  const textConds = keys.map(([n, m]) => `\`name\` = ${lit(n)} AND \`model\` = ${lit(m)}`);
  const boundConds = keys.map(() => '`name` = ? AND `model` = ?');
  const where = (cs) => ' FROM shop.t WHERE `delete_status` = 0 AND (' + cs.map((c) => `(${c})`).join(' OR ') + ')';
  const params = keys.flat();
  return {
    text: { sql: 'SELECT `id`' + textConds.map((c) => `, (${c})`).join('') + where(textConds), params: null },
    bound: { sql: 'SELECT CAST(`id` AS BINARY)' + boundConds.map((c) => `, CAST((${c}) AS BINARY)`).join('') + where(boundConds), params: [...params, ...params] },
    bound_nocast: { sql: 'SELECT `id`' + boundConds.map((c) => `, (${c})`).join('') + where(boundConds), params: [...params, ...params] },
    bound_where_only: { sql: 'SELECT `id`, `name`, `model`' + where(boundConds), params },
  };
}
(async () => {
  const c = await mysql.createConnection({ host: '127.0.0.1', port, user: process.env.SC_USER || 'app', password: process.env.SC_PASSWORD || 'app_pw', database: 'shop' });
  const out = {};
  for (const k of [1, 4, 8]) {
    const s = shapes(k);
    for (const round of [0, 1, 2]) {
      for (const name of Object.keys(s)) {
        const { sql, params } = s[name];
        for (let i = 0; i < 200; i++) params ? await c.execute(sql, params) : await c.query(sql);  // warm
        const t0 = ticks();
        for (let i = 0; i < N; i++) params ? await c.execute(sql, params) : await c.query(sql);
        const us = (ticks() - t0) * 10000 / N;
        (out[`${k}:${name}`] = out[`${k}:${name}`] || []).push(us.toFixed(1));
      }
    }
  }
  for (const [key, v] of Object.entries(out)) console.log(key, v.join(' '));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
