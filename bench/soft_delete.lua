#!/usr/bin/env sysbench
-- Inserts into a soft-delete table whose "unique among live rows" key is (name, model):
-- the workload for uniqgate's serialize mode (issue 4), run by bench/serialize.sh.
-- sysbench 1.0.20 (Debian). By default every statement is built with string.format and sent
-- by con:query() (text protocol). With --ps=on each thread prepares the INSERT and the
-- soft-delete UPDATE once (con:prepare) and every event binds and executes them (binary
-- protocol: COM_STMT_EXECUTE); this needs --db-ps-mode=auto (the default), since with
-- --db-ps-mode=disable sysbench emulates con:prepare on the client and sends text.
--
--   sysbench bench/soft_delete.lua --table=sb_direct --mode=distinct [--ps=on] [--tx=on] prepare|run|cleanup
--
-- With --tx=on every event is START TRANSACTION, its statement, COMMIT (ROLLBACK after an error).
--
-- Modes:
--   distinct  every event is one INSERT of a key no other event uses
--             (name = run id + thread id + counter): no 1062 expected.
--   hot       every event picks one of --hot-keys keys at random; with probability
--             --delete-pct % it soft-deletes that key's live row(s)
--             (UPDATE ... SET delete_status = 1 WHERE name = ? AND model = ? AND delete_status = 0),
--             otherwise it INSERTs a live row with that key; a 1062 is an expected duplicate.
--
-- Every SQL error is caught in the event and counted by error number (1062 separately);
-- the event still counts as done, so tps = statements/s in both modes. Connection-level
-- errors (2002, 2006, 2013, 2055) stay fatal and end the run. At the end each thread prints
--   soft_delete_stats thread=N inserts=I deletes=D dup1062=X other=Y errs=errno:count,...
-- which serialize.sh adds up.

sysbench.cmdline.options = {
   table = {"Table name", "sb_soft"},
   mode = {"distinct or hot", "distinct"},
   hot_keys = {"Number of keys in hot mode", 100},
   delete_pct = {"Hot mode: percent of events that soft-delete a random key's live row", 20},
   run_id = {"Prefix that makes distinct-mode keys unique across runs", "r"},
   with_live_unique = {"prepare: add the generated live_flag column and UNIQUE (name, model, live_flag)", false},
   ps = {"Server-side prepared statements: prepare once per thread, bind and execute per event", false},
   tx = {"Each event in its own explicit transaction: START TRANSACTION, the statement, COMMIT", false},
}

local function create_table(con)
   local extra = ""
   if sysbench.opt.with_live_unique then
      -- MariaDB: PERSISTENT (STORED is accepted as a synonym since 10.2). NULL for deleted
      -- rows, so any number of deleted rows share a key, but only one live row can.
      extra = ",\n  live_flag TINYINT AS (IF(delete_status = 0, 1, NULL)) PERSISTENT" ..
              ",\n  UNIQUE KEY uk_live (name, model, live_flag)"
   end
   con:query(string.format([[
CREATE TABLE %s (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  model VARCHAR(64) NOT NULL,
  price INT NOT NULL DEFAULT 0,
  delete_status TINYINT NOT NULL DEFAULT 0,
  KEY k_name_model (name, model)%s
) ENGINE=InnoDB]], sysbench.opt.table, extra))
end

function cmd_prepare()
   local con = sysbench.sql.driver():connect()
   con:query("DROP TABLE IF EXISTS " .. sysbench.opt.table)
   create_table(con)
end

function cmd_cleanup()
   local con = sysbench.sql.driver():connect()
   con:query("DROP TABLE IF EXISTS " .. sysbench.opt.table)
end

sysbench.cmdline.commands = {
   prepare = {cmd_prepare, sysbench.cmdline.PARALLEL_COMMAND},
   cleanup = {cmd_cleanup, sysbench.cmdline.PARALLEL_COMMAND},
}

-- Connection-level failures are not workload results: they end the run.
local fatal_errno = {[2002] = true, [2003] = true, [2006] = true, [2013] = true, [2055] = true}

sysbench.hooks.sql_error_ignorable = function(err)
   return not fatal_errno[err.sql_errno]
end

local con, tid, counter
local stats
local ps   -- with --ps: {insert = stmt, insert_params = {...}, delete = stmt, delete_params = {...}}

local function prepare_statements()
   local vc = sysbench.sql.type.VARCHAR
   local insert = con:prepare(string.format(
      "INSERT INTO %s (name, model, price) VALUES (?, ?, ?)", sysbench.opt.table))
   local insert_params = {insert:bind_create(vc, 64), insert:bind_create(vc, 64),
                          insert:bind_create(sysbench.sql.type.INT)}
   insert:bind_param(unpack(insert_params))
   local delete = con:prepare(string.format(
      "UPDATE %s SET delete_status = 1 WHERE name = ? AND model = ? AND delete_status = 0",
      sysbench.opt.table))
   local delete_params = {delete:bind_create(vc, 64), delete:bind_create(vc, 64)}
   delete:bind_param(unpack(delete_params))
   return {insert = insert, insert_params = insert_params, delete = delete, delete_params = delete_params}
end

function thread_init(thread_id)
   if sysbench.opt.mode ~= "distinct" and sysbench.opt.mode ~= "hot" then
      error("--mode must be distinct or hot, not " .. tostring(sysbench.opt.mode))
   end
   con = sysbench.sql.driver():connect()
   tid = thread_id
   counter = 0
   stats = {inserts = 0, deletes = 0, deleted_rows = 0, dup = 0, other = 0, errs = {}}
   if sysbench.opt.ps then
      ps = prepare_statements()
   end
end

-- Runs one statement (SQL text, or a prepared statement whose parameters are set); returns
-- the result (nil for a DML) and true, or nil and false after counting the error.
local function run(sql_or_stmt)
   local ok, ret
   if type(sql_or_stmt) == "string" then
      ok, ret = pcall(con.query, con, sql_or_stmt)
   else
      ok, ret = pcall(sql_or_stmt.execute, sql_or_stmt)
   end
   if ok then
      return ret, true
   end
   if type(ret) == "table" and ret.sql_errno ~= nil then
      local errno = tonumber(ret.sql_errno)
      if errno == 1062 then
         stats.dup = stats.dup + 1
      else
         stats.other = stats.other + 1
         stats.errs[errno] = (stats.errs[errno] or 0) + 1
         if stats.other <= 5 then
            io.stderr:write(string.format("soft_delete: thread %d: error %d: %s\n",
                                          tid, errno, tostring(ret.sql_errmsg)))
         end
      end
      return nil, false
   end
   error(ret, 0)   -- fatal: propagate
end

local function insert(name, model)
   local price = sysbench.rand.uniform(1, 100000)
   local _, ok
   if ps then
      ps.insert_params[1]:set(name)
      ps.insert_params[2]:set(model)
      ps.insert_params[3]:set(price)
      _, ok = run(ps.insert)
   else
      _, ok = run(string.format("INSERT INTO %s (name, model, price) VALUES ('%s', '%s', %d)",
                                sysbench.opt.table, name, model, price))
   end
   if ok then stats.inserts = stats.inserts + 1 end
end

local function soft_delete(name, model)
   if ps then
      ps.delete_params[1]:set(name)
      ps.delete_params[2]:set(model)
      return run(ps.delete)
   end
   return run(string.format(
      "UPDATE %s SET delete_status = 1 WHERE name = '%s' AND model = '%s' AND delete_status = 0",
      sysbench.opt.table, name, model))
end

local function event_statement()
   if sysbench.opt.mode == "distinct" then
      counter = counter + 1
      insert(string.format("%s-%d-%d", sysbench.opt.run_id, tid, counter),
             string.format("m%d", counter % 16))
   else
      local k = sysbench.rand.uniform(1, sysbench.opt.hot_keys)
      local name, model = string.format("hot%d", k), string.format("m%d", k % 7)
      if sysbench.rand.uniform(1, 100) <= sysbench.opt.delete_pct then
         local _, ok = soft_delete(name, model)
         if ok then
            stats.deletes = stats.deletes + 1
         end
      else
         insert(name, model)
      end
   end
end

-- With --tx the statement runs inside START TRANSACTION ... COMMIT (ROLLBACK when it
-- failed), the way PHP PDO's and node mysql2's beginTransaction() wrap a write; tps
-- still counts statements.
function event()
   if not sysbench.opt.tx then
      return event_statement()
   end
   run("START TRANSACTION")
   local before = stats.dup + stats.other
   event_statement()
   if stats.dup + stats.other > before then
      run("ROLLBACK")
   else
      run("COMMIT")
   end
end

function thread_done()
   local parts = {}
   for errno, n in pairs(stats.errs) do
      parts[#parts + 1] = string.format("%d:%d", errno, n)
   end
   table.sort(parts)
   -- One write of the whole line: print() writes its pieces separately, and sysbench's
   -- other threads log (every ignored error is a "FATAL: ... returned error" line) to the
   -- same stdout, which once landed inside this line and broke its parsing.
   io.stdout:write(string.format("soft_delete_stats thread=%d inserts=%d deletes=%d dup1062=%d other=%d errs=%s\n",
                                 tid, stats.inserts, stats.deletes, stats.dup, stats.other,
                                 #parts > 0 and table.concat(parts, ",") or "-"))
   io.stdout:flush()
   if ps then
      ps.insert:close()
      ps.delete:close()
   end
   con:disconnect()
end
