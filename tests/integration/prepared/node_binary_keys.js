'use strict';
// prepared_test.py binary_keys: prepared writes on a rule table whose key includes a VARBINARY
// column (`model`), with bytes that are not valid UTF-8 (0xFF 0xFE, 0xFF 0xFD: converted to a
// character set both would become the same '?'). Soft deletes, un-deletes and a rename by id
// move the keys; the proxy must compare the bytes as they are. Prints one JSON line:
// {"answers": [...]}. UG_TEXT=1: the same statements as text (mysql2 `query`). Run from tests/integration/clients/node.
const path = require('path');
const { connect, runSteps } = require(path.join(__dirname, 'node_steps.js'));

(async () => {
  const t = process.env.UG_TABLE;
  const c = await connect();
  const fffe = Buffer.from([0xff, 0xfe]);
  const fffd = Buffer.from([0xff, 0xfd]);
  const steps = [
    [`INSERT INTO ${t} (id, name, model, price) VALUES (?, ?, ?, ?)`, [1, 'a', fffe, 1]],
    [`UPDATE ${t} SET delete_status = 1 WHERE id = ?`, [1]],
    [`INSERT INTO ${t} (id, name, model, price) VALUES (?, ?, ?, ?)`, [2, 'a', fffe, 2]],
    // un-deleting row 1 would make a second live (a, FFFE): 1062
    [`UPDATE ${t} SET delete_status = 0 WHERE id = ?`, [1]],
    // (a, FFFD) is free although it reads like (a, FFFE) in a character set
    [`INSERT INTO ${t} (id, name, model, price) VALUES (?, ?, ?, ?)`, [3, 'a', fffd, 3]],
    [`UPDATE ${t} SET delete_status = 1 WHERE id = ?`, [3]],
    [`UPDATE ${t} SET delete_status = 0 WHERE id = ?`, [3]],
    // a rename onto the live (a, FFFE) by another row's values: 1062
    [`UPDATE ${t} SET model = ? WHERE id = ?`, [fffe, 3]],
    [`UPDATE ${t} SET name = ? WHERE id = ?`, ['b', 3]],
    // row 3 holds (b, FFFD) now: 1062
    [`INSERT INTO ${t} (id, name, model, price) VALUES (?, ?, ?, ?)`, [4, 'b', fffd, 4]],
  ];
  const answers = await runSteps(c, steps);
  console.log(JSON.stringify({ answers }));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
