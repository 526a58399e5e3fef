-- wrk script for bench_http.py and bench_static.py (wrkload.py):  wrk ... -s http_wrk.lua URL -- DEPTH
--
-- DEPTH 1 (the default): plain keep-alive load, one request in flight per connection; no
-- request() function is defined, so wrk sends its static request without calling Lua.
-- DEPTH N > 1: each write sends N requests at once (HTTP/1.1 pipelining) and wrk waits
-- for the N responses before the next write.
--
-- At the end prints one machine-readable line on stdout:
--   bench_http: requests=N duration_us=N connect=N read=N write=N status=N timeout=N
-- (wrk's own summary is printed too; bench_http.py reads only this line).

local depth = 1

init = function(args)
   depth = tonumber(args[1]) or 1
   if depth > 1 then
      local batch = {}
      for i = 1, depth do
         batch[i] = wrk.format()
      end
      local pipelined = table.concat(batch)
      request = function()
         return pipelined
      end
   end
end

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "bench_http: requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
end
