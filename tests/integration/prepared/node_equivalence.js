'use strict';
// prepared_test.py equivalence: the same statements, in the same order, once as text (mysql2
// query: values interpolated on the client, COM_QUERY) through one uniqgate and once prepared
// (mysql2 execute: COM_STMT_PREPARE + COM_STMT_EXECUTE) through another, each on its own
// identical tables with the same rules (E: on_duplicate error, I: ignore, U: update). Every answer
// (affected rows, insert id, warnings, error number, SQLSTATE, message, rows) must be the same,
// and must be what a unique index over live rows gives (expect). Prints "MISMATCH" / "WRONG" lines
// on failure. Run from tests/integration/clients/node (mysql2).
const path = require('path');
const mysql = require(path.join(process.cwd(), 'node_modules', 'mysql2', 'promise'));

const dup = (entry, key = 'product_name_model') => ({ errno: 1062, sqlState: '23000', message: `Duplicate entry '${entry}' for key '${key}'` });
const ins = (table, cols) => `INSERT INTO {${table}} (${cols}) VALUES (${cols.split(',').map(() => '?').join(', ')})`;
const insNMP = ins('E', 'name, model, price');
// [label, sql, params, expected fields (a subset of the answer)]
const CASES = [
  ['insert', insNMP, ['a', 'm1', 1], { affectedRows: 1, insertId: 1 }],
  ['LAST_INSERT_ID after insert', 'SELECT LAST_INSERT_ID() AS id', [], { rows: [{ id: 1 }] }],
  ['duplicate', insNMP, ['a', 'm1', 2], dup('a-m1')],
  ['duplicate, case and trailing space', insNMP, ['A ', 'm1', 2], dup('A -m1')],
  ['LAST_INSERT_ID unchanged by a refused insert', 'SELECT LAST_INSERT_ID() AS id', [], { rows: [{ id: 1 }] }],
  ['soft delete', 'UPDATE {E} SET delete_status = 1 WHERE name = ? AND model = ? AND delete_status = 0', ['a', 'm1'], { affectedRows: 1 }],
  ['re-insert of a soft-deleted key', insNMP, ['a', 'm1', 3], { affectedRows: 1, insertId: 2 }],
  ['un-delete to a live key', 'UPDATE {E} SET delete_status = 0 WHERE id = ?', [1], dup('a-m1')],
  ['second key', insNMP, ['b', 'm1', 4], { affectedRows: 1, insertId: 3 }],
  ['re-key to a live key', 'UPDATE {E} SET name = ? WHERE id = ?', ['a', 3], dup('a-m1')],
  ['non-key update', 'UPDATE {E} SET price = ? WHERE name = ? AND model = ?', [9, 'b', 'm1'], { affectedRows: 1 }],
  ['two rows', 'INSERT INTO {E} (name, model, price) VALUES (?, ?, ?), (?, ?, ?)', ['c', 'm1', 1, 'd', 'm1', 1], { affectedRows: 2, insertId: 4 }],
  ['two rows duplicating each other', 'INSERT INTO {E} (name, model, price) VALUES (?, ?, ?), (?, ?, ?)', ['e', 'm1', 1, 'E', 'm1', 1], { errno: 1062 }],
  ['un-delete when no live row', 'UPDATE {E} SET delete_status = 0, name = ? WHERE id = ?', ['f', 1], { affectedRows: 1 }],
  ['LAST_INSERT_ID', 'SELECT LAST_INSERT_ID() AS id', [], { rows: [{ id: 4 }] }],
  ['live rows', 'SELECT name, model, price FROM {E} WHERE delete_status = 0 ORDER BY id', [], {}],
  ['upsert onto a live key', 'INSERT INTO {E} (name, model, price) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE price = VALUES(price)', ['B', 'm1', 11], { affectedRows: 2 }],
  ['upsert of a new key', 'INSERT INTO {E} (name, model, price) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE price = VALUES(price)', ['g', 'm1', 5], { affectedRows: 1 }],
  ['replace of a live key', 'REPLACE INTO {E} (name, model, price) VALUES (?, ?, ?)', ['b ', 'm1', 12], { affectedRows: 2 }],
  ['replace of a new key', 'REPLACE INTO {E} (name, model, price) VALUES (?, ?, ?)', ['h', 'm1', 6], { affectedRows: 1 }],
  ['live rows after upserts and replaces', 'SELECT name, model, price FROM {E} WHERE delete_status = 0 ORDER BY name', [], {}],
  ['ignore: insert', ins('I', 'name, model, price'), ['x', 'm', 1], { affectedRows: 1, insertId: 1 }],
  ['ignore: existing key skipped', ins('I', 'name, model, price'), ['X', 'm', 2], { affectedRows: 0 }],
  ['ignore: one new, one existing', 'INSERT INTO {I} (name, model, price) VALUES (?, ?, ?), (?, ?, ?)', ['x', 'm', 3, 'y', 'm', 3], { affectedRows: 1 }],
  ['ignore: rows', 'SELECT name, model, price FROM {I} ORDER BY id', [], {}],
  ['update: insert', ins('U', 'name, model, price, note'), ['u', 'm', 1, 'first'], { affectedRows: 1, insertId: 1 }],
  ['update: existing key updated', ins('U', 'name, model, price, note'), ['u', 'm', 2, 'second'], { affectedRows: 2 }],
  ['update: another insert', ins('U', 'name, model, price, note'), ['v', 'm', 3, 'third'], { affectedRows: 1 }],
  ['update: rows', 'SELECT name, model, price, note FROM {U} ORDER BY id', [], { rows: [{ name: 'u', model: 'm', price: 2, note: 'second' }, { name: 'v', model: 'm', price: 3, note: 'third' }] }],
  ['update: LAST_INSERT_ID', 'SELECT LAST_INSERT_ID() AS id', [], {}],
  // MariaDB's INSERT ... RETURNING: the rows come back as a result set (binary, when prepared).
  ['returning: insert', `${insNMP} RETURNING id, name, model`, ['r', 'm1', 1], { rows: [{ id: 9, name: 'r', model: 'm1' }] }],
  ['returning: duplicate', `${insNMP} RETURNING id`, ['R', 'm1', 2], dup('R-m1')],
  ['returning: two rows', 'INSERT INTO {E} (name, model, price) VALUES (?, ?, ?), (?, ?, ?) RETURNING name, price', ['s', 'm1', 3, 't', 'm1', 4], { rows: [{ name: 's', price: 3 }, { name: 't', price: 4 }] }],
  ['returning: LAST_INSERT_ID', 'SELECT LAST_INSERT_ID() AS id', [], { rows: [{ id: 10 }] }],
  ['returning: live rows', 'SELECT name, model, price FROM {E} WHERE delete_status = 0 ORDER BY id', [], {}],
  // In the client's own transaction a refused INSERT must not have run at all.
  ['transaction: begin', 'START TRANSACTION', [], {}],
  ['transaction: insert', insNMP, ['w', 'm1', 1], { affectedRows: 1, insertId: 12 }],
  ['transaction: duplicate', insNMP, ['W', 'm1', 2], dup('W-m1')],
  ['transaction: LAST_INSERT_ID unchanged by a refused insert', 'SELECT LAST_INSERT_ID() AS id', [], { rows: [{ id: 12 }] }],
  ['transaction: returning', `${insNMP} RETURNING id`, ['v', 'm1', 3], { rows: [{ id: 13 }] }],
  ['transaction: returning a duplicate', `${insNMP} RETURNING id`, ['V', 'm1', 4], dup('V-m1')],
  ['transaction: commit', 'COMMIT', [], {}],
  ['transaction: rows', 'SELECT id, name FROM {E} WHERE id >= 12 ORDER BY id', [], { rows: [{ id: 12, name: 'w' }, { id: 13, name: 'v' }] }],
  // What a prepared autocommit INSERT answers when the proxy runs it inside a block of its own
  // (insert id, warnings) and where it must not (an explicit auto-increment value, LAST_INSERT_ID(expr)).
  ['explicit id', 'INSERT INTO {E} (id, name, model, price) VALUES (?, ?, ?, ?)', [100, 'x1', 'm1', 1], { affectedRows: 1, insertId: 100 }],
  ['generated id after an explicit one', insNMP, ['x2', 'm1', 1], { affectedRows: 1, insertId: 101 }],
  ['LAST_INSERT_ID(expr) in the INSERT', 'INSERT INTO {E} (name, model, price) VALUES (?, ?, LAST_INSERT_ID(?))', ['x3', 'm1', 7], { affectedRows: 1, insertId: 102 }],
  ['LAST_INSERT_ID after LAST_INSERT_ID(expr)', 'SELECT LAST_INSERT_ID() AS id', [], { rows: [{ id: 102 }] }],
  ['a trailing comment', `${insNMP} -- the end`, ['x4', 'm1', 1], { affectedRows: 1, insertId: 103 }],
  ['a duplicate with a trailing comment', `${insNMP} -- the end`, ['X4', 'm1', 1], dup('X4-m1')],
  ['lenient mode', "SET SESSION sql_mode = ''", [], {}],
  ['a truncated value warns', 'INSERT INTO {E} (name, model, price, note) VALUES (?, ?, ?, ?)', ['x5', 'm1', 1, 'n'.repeat(60)], { affectedRows: 1, insertId: 104, warningStatus: 1 }],
  ['strict mode again', 'SET SESSION sql_mode = DEFAULT', [], {}],
  ['a value out of range', insNMP, ['x6', 'm1', 2 ** 40], { errno: 1264 }],
  ['the key of the refused row is free', insNMP, ['x6', 'm1', 1], { affectedRows: 1, insertId: 105 }],
];

function connect(port) {
  return mysql.createConnection({
    host: process.env.UG_HOST, port: Number(port), user: process.env.UG_USER, password: process.env.UG_PASSWORD,
    database: 'shop', charset: 'utf8mb4_general_ci', connectTimeout: 10000,
  });
}

async function answer(c, prepared, sql, params) {
  try {
    const [r] = prepared ? await c.execute(sql, params) : await c.query(sql, params);
    if (Array.isArray(r)) return { rows: r.map((row) => ({ ...row })) };
    return { affectedRows: r.affectedRows, insertId: r.insertId, warningStatus: r.warningStatus };
  } catch (e) {
    if (e.errno === undefined) throw e;
    return { errno: e.errno, sqlState: e.sqlState, message: e.message };
  }
}

async function run(port, tables, prepared) {
  const c = await connect(port);
  const [E, I, U] = tables.split(',');
  const out = [];
  for (const [label, sql, params] of CASES) {
    out.push(await answer(c, prepared, sql.replace('{E}', E).replace('{I}', I).replace('{U}', U), params));
  }
  await c.end();
  return out;
}

(async () => {
  const text = await run(process.env.UG_TEXT_PORT, process.env.UG_TEXT_TABLES, false);
  const ps = await run(process.env.UG_PS_PORT, process.env.UG_PS_TABLES, true);
  CASES.forEach(([label, , , expect], i) => {
    const [t, p] = [JSON.stringify(text[i]), JSON.stringify(ps[i])];
    console.log(`${label}: ${p}`);
    if (t !== p) console.log(`MISMATCH ${label}:\n  text     ${t}\n  prepared ${p}`);
    for (const [k, v] of Object.entries(expect)) {
      for (const [way, got] of [['text', text[i]], ['prepared', ps[i]]]) {
        if (JSON.stringify(got[k]) !== JSON.stringify(v)) {
          console.log(`WRONG ${label} (${way}): ${k} = ${JSON.stringify(got[k])}, expected ${JSON.stringify(v)}`);
        }
      }
    }
  });
  console.log('equivalence: done');
})().catch((e) => { console.error(e); process.exit(1); });
