-- wrk script for the delivery benchmark: each thread walks its own shuffled
-- list of (path, Authorization) pairs from the file named by BENCH_REQUESTS
-- (one pair a line, separated by a tab),
-- counts what it sent and the statuses it got, and the last thread to
-- finish prints one machine-readable line.

local threads = {}
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("id", next_id)
   table.insert(threads, thread)
end

function init(args)
   requests = {}
   for line in io.lines(os.getenv("BENCH_REQUESTS")) do
      local path, authorization = line:match("^([^\t]+)\t(.+)$")
      requests[#requests + 1] = { path, authorization }
   end
   math.randomseed(id * 7919)
   position = math.random(#requests)
   sent, ok, other = 0, 0, 0
end

function request()
   position = position % #requests + 1
   sent = sent + 1
   local pair = requests[position]
   return wrk.format("GET", pair[1], { ["Authorization"] = pair[2] })
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local total_sent, total_ok, total_other = 0, 0, 0
   for _, thread in ipairs(threads) do
      total_sent = total_sent + thread:get("sent")
      total_ok = total_ok + thread:get("ok")
      total_other = total_other + thread:get("other")
   end
   io.write(string.format(
      "BENCH sent=%d ok=%d other=%d errors=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f\n",
      total_sent, total_ok, total_other,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
