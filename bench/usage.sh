#!/usr/bin/env bash
# Usage reports over a large ledger: seeds past deliveries through the
# ledger's own batch writer, then times GET /v1/usage grouped by day over
# the last 30 days for one licensee, as that licensee, and prints p50, p95
# and the worst of the timed requests.
#
#   bench/usage.sh                          10 000 000 events on SQLite
#   BENCH_EVENTS=1000000 bench/usage.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/syndicate_usage bench/usage.sh
#
# Knobs: BENCH_EVENTS (10000000), BENCH_REQUESTS (20). Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

events=${BENCH_EVENTS:-10000000}
requests=${BENCH_REQUESTS:-20}

cargo build --release --quiet --bin syndicate
bin=target/release/syndicate

make_workspace

database_url=${DATABASE_URL:-sqlite://$work/usage.db}
backend=$(prepare_database "$database_url")
export DATABASE_URL=$database_url SYNDICATE_JWT_KEYS=$work/keys SYNDICATE_LOG=warn

echo "bench: seeding $events usage events on $backend" >&2
"$bin" seed --articles 1000 --events "$events" > "$work/seed.json"

port=$(free_port)
base=http://127.0.0.1:$port
"$bin" serve --bind "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
wait_ready "$base"

python3 - "$work" "$base" "$requests" "$backend" <<'PY'
import datetime, json, statistics, sys, time, urllib.parse, urllib.request
work, base, requests, backend = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
seed = json.load(open(f"{work}/seed.json"))
client = seed["licensees"][0]["client"]
form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client["client_id"],
                               "client_secret": client["client_secret"]}).encode()
with urllib.request.urlopen(urllib.request.Request(f"{base}/v1/auth/token", data=form)) as response:
    token = json.load(response)["access_token"]
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
query = urllib.parse.urlencode({"group_by": "day", "from": (now - datetime.timedelta(days=30)).isoformat().replace("+00:00", "Z"),
                                "to": (now + datetime.timedelta(hours=1)).isoformat().replace("+00:00", "Z")})
url = f"{base}/v1/usage?{query}"
timings, report = [], None
for n in range(requests + 1):
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})) as response:
        report = json.load(response)
    if n:  # the first request warms the caches
        timings.append((time.perf_counter() - started) * 1000)
timings.sort()
p95 = timings[max(0, int(round(0.95 * len(timings))) - 1)]
print(f"\n{backend}: {seed['events']} events recorded at {seed['events'] / max(seed['events_seconds'], 1e-9):.0f} events/s; "
      f"one licensee's month grouped by day: {report['totals']['deliveries']} deliveries in {len(report['rows'])} rows")
print(f"GET /v1/usage over {requests} requests: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, worst {timings[-1]:.1f} ms")
PY
