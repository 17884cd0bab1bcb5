#!/usr/bin/env bash
# The delivery benchmark: the real, metered GET /v1/content/{id} against a
# bare actix-web ceiling serving the same bytes, in alternating rounds of
# one run, then a table of throughput, latency and memory with the ratios.
# After every round of the real endpoint it checks the ledger: every 200
# wrk saw is a new usage event, and nothing beyond what wrk sent.
#
#   bench/run.sh                      10 000 articles on SQLite
#   BENCH_ARTICLES=1000000 bench/run.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/syndicate_bench bench/run.sh
#
# Knobs: BENCH_ARTICLES (10000), BENCH_ROUNDS (3, after one warm-up round
# of the real endpoint that is checked but not counted; BENCH_WARMUP=0
# skips it), BENCH_SECONDS (15),
# BENCH_LEDGER (journal, the default, or sync: the server's --ledger; its
# journal goes in the scratch directory), BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_PAIRS (100000: at most
# this many (licensee, article) pairs, drawn at random from all, are
# requested; 10 000 articles make about 12 000; several sizes, e.g.
# "12000 100000", are measured one after the other on the same data, each
# with its own ceiling rounds), BENCH_DATA (a directory that keeps the
# seeded database and its credentials for later runs of the same size; the
# ledger grows with each run, which the checks allow for), BENCH_FLOOR (1
# adds rounds of examples/floor.rs, the ceiling plus the journal, its
# decisions in memory and shipping to a copy of the seeded database: the
# least a delivery costs in this design). Needs python3 and wrk
# (installed with apt-get when missing and run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

articles=${BENCH_ARTICLES:-10000}
rounds=${BENCH_ROUNDS:-3}
seconds=${BENCH_SECONDS:-15}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
pairs=${BENCH_PAIRS:-100000}
warmup=${BENCH_WARMUP:-1}
ledger_mode=${BENCH_LEDGER:-journal}
floor=${BENCH_FLOOR:-0}

if ! command -v wrk > /dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
        echo "bench: installing wrk" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null; }
    else
        echo "bench: wrk is needed (apt-get install wrk)" >&2
        exit 1
    fi
fi

cargo build --release --quiet --bin syndicate --example ceiling --example floor
bin=target/release/syndicate
ceiling_bin=target/release/examples/ceiling
floor_bin=target/release/examples/floor

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    wait 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The dataset lives in the scratch directory, or in BENCH_DATA to be kept
# and used again by later runs (a million articles take half an hour).
store=${BENCH_DATA:-$work}
mkdir -p "$store"
database_url=${DATABASE_URL:-sqlite://$store/bench.db}
export DATABASE_URL=$database_url SYNDICATE_JWT_KEYS=$store/keys SYNDICATE_LOG=warn SYNDICATE_TOKEN_TTL=3600
if [ -n "${BENCH_DATA:-}" ] && [ -s "$store/seed.json" ]; then
    kept=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["articles"])' "$store/seed.json")
    if [ "$kept" != "$articles" ]; then
        echo "bench: $store holds $kept articles, not $articles; remove it or set BENCH_ARTICLES=$kept" >&2
        exit 1
    fi
    backend=${database_url%%:*}
    backend=${backend/postgresql/postgres}
    echo "bench: using the $articles articles kept in $store on $backend" >&2
else
    backend=$(prepare_database "$database_url")
    echo "bench: seeding $articles articles on $backend" >&2
    "$bin" seed --articles "$articles" > "$store/seed.json.part"
    mv "$store/seed.json.part" "$store/seed.json"
fi
[ "$store" = "$work" ] || cp "$store/seed.json" "$work/seed.json"

# The floor's own copy of the seeded database, made before any server
# opens it, so that its ledger is apart from the real server's.
if [ "$floor" = 1 ]; then
    floor_url=$(copy_database "$database_url" "$backend" "$work")
fi

port=$(free_port)
base=http://127.0.0.1:$port
start_server() {
    "$bin" serve --bind "127.0.0.1:$port" --ledger "$ledger_mode" --journal-dir "$work/journal" \
        >> "$work/serve.log" 2>&1 &
    server=$!
    pids+=("$server")
    wait_ready "$base"
}
start_server

# Tokens for every licensee and the admin, and every request shuffled
# (bench/requests.py); the request list of each size for wrk; one
# real response body for the ceiling.
python3 bench/requests.py "$work" "$base"
python3 - "$work" "$base" $pairs <<'PY'
import json, sys, urllib.request
work, base, sizes = sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]]
seed = json.load(open(f"{work}/seed.json"))

pairs = [tuple(line.rstrip("\n").split("\t")) for line in open(f"{work}/requests.txt")]
for size in sizes:
    chosen = pairs[:size]
    with open(f"{work}/real-{size}.txt", "w") as out:
        out.write("".join(f"{p}\t{a}\n" for p, a in chosen))
    print(f"bench: requests over {len(chosen)} (licensee, article) pairs, {len({p for p, _ in chosen})} articles",
          file=sys.stderr)
path, bearer = pairs[0]
with urllib.request.urlopen(urllib.request.Request(base + path, headers={"Authorization": bearer})) as response:
    open(f"{work}/body.json", "wb").write(response.read())
with open(f"{work}/ceiling.txt", "w") as out:
    out.write(f"{path}\tBearer ceiling-static-token\n")
print(f"bench: body of {len(open(f'{work}/body.json','rb').read())} bytes;"
      f" seeded at {seed['articles'] / seed['ingest_seconds']:.0f} articles/s (with a photo each)", file=sys.stderr)
PY

ceiling_port=$(free_port)
"$ceiling_bin" "127.0.0.1:$ceiling_port" "$work/body.json" ceiling-static-token &
ceiling=$!
pids+=("$ceiling")
sleep 0.5
if [ "$floor" = 1 ]; then
    floor_port=$(free_port)
    "$floor_bin" "127.0.0.1:$floor_port" "$floor_url" "$work/floor-journal" "$work/body.json" ceiling-static-token \
        >> "$work/floor.log" 2>&1 &
    floor_pid=$!
    pids+=("$floor_pid")
    for _ in $(seq 1 300); do
        curl -sf "http://127.0.0.1:$floor_port/metrics" > /dev/null && break
        sleep 0.1
    done
fi

# Deliveries in the server's journal not yet shipped to the SQL ledger (0
# in sync mode, which has no journal); of the server at another base URL
# if one is given.
unshipped() { # [base]
    curl -sf "${1:-$base}/metrics" | awk '/^syndicate_journal_unshipped_entries / { n = $2 } END { printf "%d", n }'
}

# Waits (a minute at most) until the server's journal is shipped.
wait_shipped() { # [base]
    for _ in $(seq 1 600); do
        [ "$(unshipped "$@")" = 0 ] && break
        sleep 0.1
    done
}

# The ledger's deliveries, once every answered one is shipped.
ledger() {
    wait_shipped
    curl -sf -H "Authorization: Bearer $(cat "$work/admin.token")" "$base/v1/usage" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["totals"]["deliveries"])'
}

# 200s the server itself answered on the delivery route (its /metrics).
served() {
    curl -sf "$base/metrics" | awk '/^syndicate_http_requests_total\{/ && /endpoint="\/v1\/content\/\{id\}"/ && /status="200"/ { n += $NF } END { printf "%d", n }'
}

# CPU seconds (user and system, in clock ticks) each of the server's
# threads has used so far, one "name ticks" line per thread name.
thread_cpu() {
    for task in /proc/"$1"/task/*; do
        printf '%s %s\n' "$(tr ' |' '__' < "$task/comm")" "$(awk '{ print $14 + $15 }' "$task/stat")"
    done 2> /dev/null | awk '{ t[$1] += $2 } END { for (n in t) print n, t[n] }' | sort
}

# Server CPU per delivery over a round, by thread, in microseconds: the
# HTTP workers, the usage writer, the journal's syncer and shipper (a
# thread that ended during the round is not counted).
cpu_per_delivery() { # before-file after-file deliveries
    join "$1" "$2" | awk -v tick="$(getconf CLK_TCK)" -v n="$3" '
        { d = ($3 - $2) / tick * 1e6 / (n > 0 ? n : 1); if (d < 0) d = 0; total += d
          if ($1 ~ /^actix/) w += d; else if ($1 == "usage-writer") u += d
          else if ($1 == "journal-sync") y += d; else if ($1 == "journal-ship") s += d; else o += d }
        END { printf "cpu_us=%.0f workers_us=%.0f writer_us=%.0f sync_us=%.0f ship_us=%.0f other_us=%.0f", total, w, u, y, s, o }'
}

peak_rss_mb() {
    awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

run_wrk() { # name url requests-file
    BENCH_REQUESTS=$3 wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency \
        -s bench/delivery.lua "$2" | grep '^BENCH' | sed "s/^BENCH/$1/"
}

# A round of the ceiling or the floor (one path, a static token): wrk's
# line and the process's CPU per 200 by thread, once its journal is
# shipped if "shipped" is given.
static_round() { # name base pid [shipped]
    local line ok
    thread_cpu "$3" > "$work/cpu.before"
    line=$(run_wrk "$1" "$2" "$work/ceiling.txt")
    if [ "${4:-}" = shipped ]; then wait_shipped "$2"; fi
    thread_cpu "$3" > "$work/cpu.after"
    ok=$(echo "$line" | tr ' ' '\n' | awk -F= '$1 == "ok" { print $2 }')
    echo "$line $(cpu_per_delivery "$work/cpu.before" "$work/cpu.after" "$ok")" | tee -a "$results" >&2
}

results=$work/results
: > "$results"
for size in $pairs; do
    # Round 0 (unless BENCH_WARMUP=0) is a warm-up of the real endpoint:
    # articles read and rendered for the first time, billing keys new. It
    # is checked like the others and shown, but not in the medians.
    for round in $(seq "$((1 - warmup))" "$rounds"); do
        name=real
        if [ "$round" = 0 ]; then
            name=warmup
        else
            static_round "ceiling $size" "http://127.0.0.1:$ceiling_port" "$ceiling"
            if [ "$floor" = 1 ]; then
                static_round "floor $size" "http://127.0.0.1:$floor_port" "$floor_pid" shipped
            fi
        fi
        before=$(ledger)
        served_before=$(served)
        thread_cpu "$server" > "$work/cpu.before"
        line=$(run_wrk "$name $size" "$base" "$work/real-$size.txt")
        sleep 0.5
        after=$(ledger)
        thread_cpu "$server" > "$work/cpu.after"
        served_after=$(served)
        cpu=$(cpu_per_delivery "$work/cpu.before" "$work/cpu.after" "$((after - before))")
        echo "$line ledger=$((after - before)) served=$((served_after - served_before)) $cpu" | tee -a "$results" >&2
        python3 - "$line" "$((after - before))" "$((served_after - served_before))" <<'PY'
import sys
fields = dict(item.split("=") for item in sys.argv[1].split()[2:])
ok, sent = int(fields["ok"]), int(fields["sent"])
new, served = int(sys.argv[2]), int(sys.argv[3])
# Exact: every 200 the server answered is one new usage event.
if new != served:
    sys.exit(f"bench: LEDGER MISMATCH: the server answered {served} 200s, the ledger grew by {new}")
# wrk stops on a clock: requests in flight then are answered (and
# recorded) without wrk reading the answer, so wrk's count may fall short
# of the ledger by at most what it sent and did not read; never exceed it.
if not ok <= new <= sent:
    sys.exit(f"bench: LEDGER MISMATCH: wrk saw {ok} 200s of {sent} sent, the ledger grew by {new}")
if int(fields["other"]):
    sys.exit(f"bench: {fields['other']} responses were not 200")
PY
    done
    # Peak RSS so far (the process's high-water mark).
    echo "rss $size ceiling=$(peak_rss_mb "$ceiling") real=$(peak_rss_mb "$server")${floor_pid:+ floor=$(peak_rss_mb "$floor_pid")}" >> "$results"
done
last=${pairs##* }

# A crash: kill -9 the server halfway through a round, start it again, and
# check that every 200 wrk read is in the ledger (a usage event is durable
# before its response is sent).
before=$(ledger)
BENCH_REQUESTS=$work/real-$last.txt wrk -t"$threads" -c"$connections" -d"${seconds}s" \
    -s bench/delivery.lua "$base" > "$work/crash.out" 2>&1 &
load=$!
sleep "$((seconds / 2))"
kill -9 "$server"
wait "$load" || true
start_server
after=$(ledger)
crash=$(grep '^BENCH' "$work/crash.out" | sed 's/^BENCH/crash/')
echo "$crash ledger=$((after - before))" >&2
python3 - "$crash" "$((after - before))" <<'PY'
import sys
fields = dict(item.split("=") for item in sys.argv[1].split()[1:])
ok, sent, new = int(fields["ok"]), int(fields["sent"]), int(sys.argv[2])
if not ok <= new <= sent:
    sys.exit(f"bench: LEDGER MISMATCH after kill -9: wrk read {ok} 200s of {sent} sent, the ledger grew by {new}")
print(f"bench: kill -9 mid-round: wrk read {ok} 200s, the ledger holds {new} new events (at most {new - ok} answered but unread)", file=sys.stderr)
PY

python3 - "$results" "$backend, $ledger_mode ledger" "$articles" <<'PY'
import statistics, sys
rows, rss = {}, {}
for line in open(sys.argv[1]):
    parts = line.split()
    fields = dict(p.split("=") for p in parts[2:])
    if parts[0] == "rss":
        rss[parts[1]] = fields
    else:
        rows.setdefault(parts[1], {}).setdefault(parts[0], []).append(fields)
for size, of in rows.items():
    def median(name, key):
        return statistics.median(float(r[key]) for r in of[name])
    print(f"\n{sys.argv[2]}, {sys.argv[3]} articles, requests over at most {size} (licensee, article) pairs,"
          f" medians of {len(of['real'])} alternating rounds\n")
    print("| | req/s | p50 ms | p99 ms | peak RSS MB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    names = [n for n in ("ceiling", "floor", "real") if n in of]
    for name in names:
        print(f"| {name} | {median(name, 'rps'):.0f} | {median(name, 'p50_ms'):.2f} | {median(name, 'p99_ms'):.2f} | {rss.get(size, {}).get(name, '?')} |")
    for name in names[1:]:
        print(f"| {name} / ceiling | {median(name, 'rps') / median('ceiling', 'rps'):.2f} | "
              f"{median(name, 'p50_ms') / median('ceiling', 'p50_ms'):.2f} | {median(name, 'p99_ms') / median('ceiling', 'p99_ms'):.2f} | |")
    if "warmup" in of:
        print(f"| real, warm-up round (not in the medians) | {median('warmup', 'rps'):.0f} | {median('warmup', 'p50_ms'):.2f} | {median('warmup', 'p99_ms'):.2f} | |")
    for name in names:
        if "cpu_us" in of[name][0]:
            parts = ", ".join(f"{label} {median(name, key):.0f}" for label, key in
                              (("HTTP workers", "workers_us"), ("usage writer", "writer_us"),
                               ("journal syncer", "sync_us"), ("journal shipper", "ship_us"), ("other", "other_us")))
            print(f"\nServer CPU per delivery, {name} (µs, median of rounds, shipping included): {median(name, 'cpu_us'):.0f}: {parts}")
PY
