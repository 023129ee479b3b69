-- scan.lua: wrk script of bench/scan. Each wrk thread sends the pre-signed
-- requests of its own file (written by scan_setup), each once, in order.
--
--   wrk -t T ... -s bench/scan.lua URL -- PREFIX MODE
--
-- Thread k reads PREFIX.k: a line "<length>\n", then raw HTTP requests of
-- that length back to back. The file is read in chunks as the thread goes,
-- not loaded in init(): wrk 4.1 runs each thread's init() on the main thread
-- just before starting that thread, so loading hundreds of megabytes there
-- would let thread 0 run alone (and be counted) while thread 1 loads.
--
-- MODE:
--   once   every request is sent at most once (the server refuses a replayed
--          nonce). A thread that runs out stops (wrk.thread:stop(), wrk 4.x)
--          and counts it in wrk_exhausted: the run is then void (bench/scan
--          says so), and the files must be made larger.
--   cycle  start again from the first request when out (for a server that
--          does not look at the requests, like the nginx baseline).
--
-- done() prints `wrk_<name> <value>` lines for bench/scan: completed
-- requests, duration, p50/p99 latency (us), 200 answers, other answers by
-- status with the first such body, socket errors, exhaustion.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   table.insert(threads, thread)
   next_id = next_id + 1
end

local CHUNK = 2048 -- requests read at a time

function init(args)
   local prefix, mode = args[1], args[2] or "once"
   file = assert(io.open(prefix .. "." .. id, "rb"))
   len = assert(tonumber(file:read("*l")), "bad request file")
   base = file:seek()
   chunk, at = "", 0
   cycle = (mode == "cycle")
   sent = 0
   ok = 0
   other = 0
   by_status = {}
   first_other = ""
   exhausted = 0
end

local stop_request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

function request()
   if at >= #chunk then
      chunk, at = file:read(len * CHUNK), 0
      if not chunk and cycle then
         file:seek("set", base)
         chunk = file:read(len * CHUNK)
      end
      if not chunk then
         -- never repeat a signed request: stop this thread; the run is void
         chunk = ""
         exhausted = exhausted + 1
         wrk.thread:stop()
         return stop_request
      end
   end
   local r = string.sub(chunk, at + 1, at + len)
   at = at + len
   sent = sent + 1
   return r
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   else
      other = other + 1
      by_status[status] = (by_status[status] or 0) + 1
      if first_other == "" then
         first_other = status .. " " .. string.sub(body or "", 1, 200)
      end
   end
end

function done(summary, latency, requests)
   local ok_all, other_all, exhausted_all, loaded = 0, 0, 0, 0
   local statuses, first = {}, ""
   for _, t in ipairs(threads) do
      ok_all = ok_all + t:get("ok")
      other_all = other_all + t:get("other")
      exhausted_all = exhausted_all + t:get("exhausted")
      loaded = loaded + t:get("sent")
      for s, c in pairs(t:get("by_status")) do
         statuses[s] = (statuses[s] or 0) + c
      end
      if first == "" then first = t:get("first_other") end
   end
   local e = summary.errors
   io.write(string.format("wrk_requests %d\n", summary.requests))
   io.write(string.format("wrk_duration_us %d\n", summary.duration))
   io.write(string.format("wrk_p50_us %d\n", latency:percentile(50)))
   io.write(string.format("wrk_p99_us %d\n", latency:percentile(99)))
   io.write(string.format("wrk_max_us %d\n", latency.max))
   io.write(string.format("wrk_sent %d\n", loaded))
   io.write(string.format("wrk_status_200 %d\n", ok_all))
   io.write(string.format("wrk_non200 %d\n", other_all))
   for s, c in pairs(statuses) do
      io.write(string.format("wrk_status_%d %d\n", s, c))
   end
   if first ~= "" then
      io.write("wrk_first_non200 " .. string.gsub(first, "[\r\n]", " ") .. "\n")
   end
   io.write(string.format("wrk_errors_connect %d\nwrk_errors_read %d\nwrk_errors_write %d\n", e.connect, e.read, e.write))
   io.write(string.format("wrk_errors_timeout %d\n", e.timeout))
   io.write(string.format("wrk_exhausted %d\n", exhausted_all))
end
