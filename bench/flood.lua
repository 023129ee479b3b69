-- flood.lua: the other traffic of bench/scan --beside, from its own wrk.
--
--   wrk -t 1 -c 512 ... -s bench/flood.lua URL -- code TOKEN     GET /v1/me/code with a resident's token
--   wrk -t 1 -c 512 ... -s bench/flood.lua URL -- login NUMBER   log-ins of an ID number that is not registered
--
-- done() prints `flood_<name> <value>` lines: requests, per second, answers by status.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   if args[1] == "code" then
      req = wrk.format("GET", "/v1/me/code", {["Authorization"] = "Bearer " .. args[2], ["X-Channel"] = "app"})
   else
      local body = '{"id_number":"' .. args[2] .. '","password":"wrong-password-1","otp":"123456"}'
      req = wrk.format("POST", "/v1/sessions", {["Content-Type"] = "application/json", ["X-Channel"] = "app"}, body)
   end
   by_status = {}
end

function request()
   return req
end

function response(status, headers, body)
   by_status[status] = (by_status[status] or 0) + 1
end

function done(summary, latency, requests)
   local statuses = {}
   for _, t in ipairs(threads) do
      for s, c in pairs(t:get("by_status")) do
         statuses[s] = (statuses[s] or 0) + c
      end
   end
   io.write(string.format("flood_requests %d\n", summary.requests))
   io.write(string.format("flood_per_s %.0f\n", summary.requests / (summary.duration / 1e6)))
   for s, c in pairs(statuses) do
      io.write(string.format("flood_status_%d %d\n", s, c))
   end
   local e = summary.errors
   io.write(string.format("flood_errors %d\n", e.connect + e.read + e.write + e.timeout))
end
