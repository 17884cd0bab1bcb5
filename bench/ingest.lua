-- wrk script for the writers of bench/writers.sh: each thread is one
-- publisher's desk (its token is line `id` of the file named by
-- BENCH_DESKS) and posts new, published articles, each with an
-- external_ref of its own, pausing BENCH_PAUSE_MS between requests so
-- the total rate stays near what the bench asks for. The last thread to
-- finish prints one machine-readable line.

local threads = {}
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("id", next_id)
   table.insert(threads, thread)
end

function init(args)
   local tokens = {}
   for line in io.lines(os.getenv("BENCH_DESKS")) do
      tokens[#tokens + 1] = line
   end
   token = tokens[(id - 1) % #tokens + 1]
   pause = tonumber(os.getenv("BENCH_PAUSE_MS") or "0")
   run = os.getenv("BENCH_RUN") or "0"
   sent, created, other = 0, 0, 0
end

function delay()
   return pause
end

function request()
   sent = sent + 1
   local body = string.format(
      '{"external_ref":"writers-%s-%d-%d","headline":"Shipping forecast %d","body_html":"<p>Winds westerly, veering north-westerly later, 5 to 7.</p>","section":"weather","language":"en-GB","bylines":[],"status":"published"}',
      run, id, sent, sent)
   return wrk.format("POST", "/v1/articles",
      { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
   if status == 201 then
      created = created + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local total_sent, total_created, total_other = 0, 0, 0
   for _, thread in ipairs(threads) do
      total_sent = total_sent + thread:get("sent")
      total_created = total_created + thread:get("created")
      total_other = total_other + thread:get("other")
   end
   io.write(string.format("WRITERS sent=%d created=%d other=%d rate=%.1f\n",
      total_sent, total_created, total_other, total_created / (summary.duration / 1e6)))
end
