#!/usr/bin/env sysbench
-- prepared_test.py clients for sysbench 1.0.20: the parallel command `runplans` runs in every
-- --threads thread; thread I runs PLANS/planI.tsv with server-side prepared statements
-- (con:prepare, stmt:bind_param, stmt:execute; needs --db-ps-mode=auto, the default) and writes
-- PLANS/outI.tsv. sysbench's Lua API does not return affected rows for a DML (execute returns
-- nil): they are written as "-" and prepared_test.py checks the weaker invariant (every key
-- told inserted is live: a soft delete is always followed by a re-insert).
--
--   sysbench sysbench_client.lua --db-driver=mysql ... --threads=16 --table=T --plans=DIR runplans

sysbench.cmdline.options = {
   table = {"Rule table", "t"},
   plans = {"Folder with planI.tsv; outI.tsv are written there", "."},
}

-- Every SQL error is a result to report; connection-level ones end the thread.
local fatal_errno = {[2002] = true, [2003] = true, [2006] = true, [2013] = true, [2055] = true}
sysbench.hooks.sql_error_ignorable = function(err)
   return not fatal_errno[err.sql_errno]
end

local function clean(v)
   return (tostring(v):gsub("[\t\n]", " "))
end

local function emit(sink, fields)
   for i = 1, #fields do fields[i] = clean(fields[i]) end
   sink[#sink + 1] = table.concat(fields, "\t")
end

-- Executes a prepared statement: true and affected rows, or false and the error fields.
local function execute(stmt)
   local ok, ret = pcall(stmt.execute, stmt)
   if ok then
      return true, "-"
   end
   if type(ret) == "table" and ret.sql_errno ~= nil then
      return false, {"ERR", tonumber(ret.sql_errno), ret.sql_state, ret.sql_errmsg}
   end
   error(ret, 0)
end

local function run_plan()
   local tid = sysbench.tid
   local con = sysbench.sql.driver():connect()
   local t = sysbench.opt.table
   local ins = con:prepare(string.format(
      "INSERT INTO %s (name, model, price, note) VALUES (?, ?, ?, ?)", t))
   local ip = {ins:bind_create(sysbench.sql.type.VARCHAR, 100), ins:bind_create(sysbench.sql.type.VARCHAR, 100),
               ins:bind_create(sysbench.sql.type.INT), ins:bind_create(sysbench.sql.type.VARCHAR, 50)}
   ins:bind_param(unpack(ip))
   local del = con:prepare(string.format(
      "UPDATE %s SET delete_status = 1 WHERE name = ? AND model = ? AND delete_status = 0", t))
   local dp = {del:bind_create(sysbench.sql.type.VARCHAR, 100), del:bind_create(sysbench.sql.type.VARCHAR, 100)}
   del:bind_param(unpack(dp))

   local out = {}
   local function insert(ctx, name, model, price, sink)
      ip[1]:set(name); ip[2]:set(model); ip[3]:set(price); ip[4]:set("n" .. price)
      local ok, r = execute(ins)
      if ok then
         emit(sink, {"ins", name, model, ctx, "OK", r, "-"})
      else
         emit(sink, {"ins", name, model, ctx, r[1], r[2], r[3], r[4]})
      end
      return ok
   end

   local f = assert(io.open(string.format("%s/plan%d.tsv", sysbench.opt.plans, tid), "r"))
   for line in f:lines() do
      local op = {}
      for field in line:gmatch("[^\t]+") do op[#op + 1] = field end
      if op[1] == "ins" then
         insert("auto", op[2], op[3], tonumber(op[4]), out)
      elseif op[1] == "delre" then
         dp[1]:set(op[2]); dp[2]:set(op[3])
         local ok, r = execute(del)
         if ok then
            emit(out, {"del", op[2], op[3], "auto", "OK", r})
         else
            emit(out, {"del", op[2], op[3], "auto", r[1], r[2], r[3], r[4]})
         end
         insert("auto", op[2], op[3], 7, out)
      elseif op[1] == "txn" then
         local held, failed = {}, false
         con:query("BEGIN")
         for k = 3, #op - 1, 2 do
            if not insert("TXN", op[k], op[k + 1], 3, held) then failed = true; break end
         end
         local commit = op[2] == "commit" and not failed
         con:query(commit and "COMMIT" or "ROLLBACK")
         for _, h in ipairs(held) do
            out[#out + 1] = h:gsub("\tTXN\t", commit and "\ttxc\t" or "\ttxr\t", 1)
         end
      else
         error("unknown plan line " .. line)
      end
   end
   f:close()
   local o = assert(io.open(string.format("%s/out%d.tsv", sysbench.opt.plans, tid), "w"))
   for _, l in ipairs(out) do o:write(l, "\n") end
   o:close()
   con:disconnect()
end

sysbench.cmdline.commands = {
   runplans = {run_plan, sysbench.cmdline.PARALLEL_COMMAND},
}
