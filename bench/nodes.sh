#!/usr/bin/env bash
# Several nodes on one PostgreSQL database: the metered GET /v1/content/{id}
# under one wrk per node at once, for each ledger mode in turn. Per round it
# prints the deliveries per second of all nodes together, the database's
# transactions per 1 000 deliveries (pg_stat_database: commits and
# rollbacks, read-only ones included), the CPU time per delivery of the
# PostgreSQL server's processes and of the nodes, and checks the ledger:
# once every node has shipped, it grew by exactly the 200s the nodes
# answered.
#
#   bench/nodes.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/syndicate_bench bench/nodes.sh
#
# Knobs: BENCH_NODES (3), BENCH_LEDGER ("sync journal": the modes, each
# with its own nodes), BENCH_ARTICLES (10000), BENCH_ROUNDS (2 per mode,
# after a warm-up round that is checked but not in the medians),
# BENCH_SECONDS (10), BENCH_CONNECTIONS (64 in all, shared by the nodes'
# wrk processes). The PostgreSQL server must run on this machine (its
# processes' CPU is read from /proc). Needs python3, psql and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

nodes=${BENCH_NODES:-3}
modes=${BENCH_LEDGER:-sync journal}
articles=${BENCH_ARTICLES:-10000}
rounds=${BENCH_ROUNDS:-2}
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-64}
database_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/syndicate_bench?sslmode=disable}
case $database_url in
    postgres:* | postgresql:*) ;;
    *)
        echo "bench: several nodes share a PostgreSQL database; DATABASE_URL must name one" >&2
        exit 1
        ;;
esac
command -v wrk > /dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 1; }

cargo build --release --quiet --bin syndicate
bin=target/release/syndicate

work=$(mktemp -d)
pids=()
stop_nodes() {
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    wait 2> /dev/null || true
    pids=()
}
trap 'stop_nodes; rm -rf "$work"' EXIT

export DATABASE_URL=$database_url SYNDICATE_JWT_KEYS=$work/keys SYNDICATE_LOG=warn SYNDICATE_TOKEN_TTL=3600
prepare_database "$database_url" > /dev/null
database=$(database_name "$database_url")
echo "bench: seeding $articles articles" >&2
"$bin" seed --articles "$articles" > "$work/seed.json"

ports=()
for _ in $(seq 1 "$nodes"); do ports+=("$(free_port)"); done
start_nodes() { # mode
    local i
    for i in $(seq 0 $((nodes - 1))); do
        "$bin" serve --bind "127.0.0.1:${ports[$i]}" --ledger "$1" \
            --journal-dir "$work/journal-$1-$i" >> "$work/serve-$i.log" 2>&1 &
        pids+=($!)
    done
    for port in "${ports[@]}"; do wait_ready "http://127.0.0.1:$port"; done
}

# Requests over every (licensee, article) pair, shuffled; tokens minted on
# the first node are good on every node (they share the signing keys).
start_nodes journal
python3 bench/requests.py "$work" "http://127.0.0.1:${ports[0]}"
stop_nodes

metric() { # port awk-program
    curl -sf "http://127.0.0.1:$1/metrics" | awk "$2"
}
served() { # 200s answered on the delivery route by every node
    local total=0 port
    for port in "${ports[@]}"; do
        total=$((total + $(metric "$port" '/^syndicate_http_requests_total\{/ && /endpoint="\/v1\/content\/\{id\}"/ && /status="200"/ { n += $NF } END { printf "%d", n }')))
    done
    echo "$total"
}
ledger() { # the ledger's deliveries, once every node has shipped
    local port
    for port in "${ports[@]}"; do
        for _ in $(seq 1 600); do
            [ "$(metric "$port" '/^syndicate_journal_unshipped_entries / { n = $2 } END { printf "%d", n }')" = 0 ] && break
            sleep 0.1
        done
    done
    curl -sf -H "Authorization: Bearer $(cat "$work/admin.token")" "http://127.0.0.1:${ports[0]}/v1/usage" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["totals"]["deliveries"])'
}
transactions() {
    psql -qtA "$database_url" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$database'"
}
cpu_ticks() { # pids...: user and system clock ticks, summed
    local pid total=0
    for pid in "$@"; do
        if [ -r "/proc/$pid/stat" ]; then
            total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2> /dev/null || echo 0)))
        fi
    done
    echo "$total"
}
# The PostgreSQL server's processes (a backend that exits between two
# readings takes its CPU time with it; the nodes' pooled connections stay).
postgres_ticks() {
    # shellcheck disable=SC2046
    cpu_ticks $(pgrep -u postgres)
}

results=$work/results
: > "$results"
tick=$(getconf CLK_TCK)
for mode in $modes; do
    start_nodes "$mode"
    per_node=$((connections / nodes))
    for round in $(seq 0 "$rounds"); do
        name=$mode
        [ "$round" = 0 ] && name="$mode-warmup"
        before=$(ledger)
        served_before=$(served)
        sleep 1.5 # the statistics of the last statements reach pg_stat_database
        xact_before=$(transactions)
        pg_before=$(postgres_ticks)
        nodes_before=$(cpu_ticks "${pids[@]}")
        outs=()
        for i in $(seq 0 $((nodes - 1))); do
            BENCH_REQUESTS=$work/requests.txt wrk -t1 -c"$per_node" -d"${seconds}s" --latency \
                -s bench/delivery.lua "http://127.0.0.1:${ports[$i]}" > "$work/wrk-$i.out" 2>&1 &
            outs+=($!)
        done
        wait "${outs[@]}"
        after=$(ledger)
        served_after=$(served)
        nodes_after=$(cpu_ticks "${pids[@]}")
        sleep 1.5
        pg_after=$(postgres_ticks)
        xact_after=$(transactions)
        python3 - "$name" "$tick" "$((after - before))" "$((served_after - served_before))" \
            "$((xact_after - xact_before))" "$((pg_after - pg_before))" "$((nodes_after - nodes_before))" \
            "$work"/wrk-*.out <<'PY' | tee -a "$results" >&2
import sys
name, tick, new, served, xacts, pg, nodes = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:8])
rps = ok = sent = other = 0
p99 = 0.0
for path in sys.argv[8:]:
    line = next(l for l in open(path) if l.startswith("BENCH"))
    fields = dict(item.split("=") for item in line.split()[1:])
    rps += float(fields["rps"]); ok += int(fields["ok"]); sent += int(fields["sent"]); other += int(fields["other"])
    p99 = max(p99, float(fields["p99_ms"]))
if new != served:
    sys.exit(f"bench: LEDGER MISMATCH: the nodes answered {served} 200s, the ledger grew by {new}")
if not ok <= new <= sent:
    sys.exit(f"bench: LEDGER MISMATCH: wrk saw {ok} 200s of {sent} sent, the ledger grew by {new}")
per = max(new, 1)
if other:
    print(f"bench: {other} responses were not 200 (the nodes' statuses follow the round)", file=sys.stderr)
print(f"{name} rps={rps:.0f} p99_ms={p99:.2f} deliveries={new} refused={other} xacts_per_1000={xacts * 1000 / per:.1f}"
      f" postgres_cpu_us={pg / tick * 1e6 / per:.1f} nodes_cpu_us={nodes / tick * 1e6 / per:.1f}")
PY
    done
    for port in "${ports[@]}"; do
        metric "$port" '/^syndicate_http_requests_total\{/ && /endpoint="\/v1\/content\/\{id\}"/ && !/status="200"/' |
            sed "s/^/bench: $mode node $port: /" >&2
    done
    stop_nodes
done

python3 - "$results" "$nodes" "$articles" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if parts[0].endswith("-warmup"):
        continue
    rows.setdefault(parts[0], []).append(dict(p.split("=") for p in parts[1:]))
print(f"\n{sys.argv[2]} nodes on one PostgreSQL database, {sys.argv[3]} articles, medians of {len(next(iter(rows.values())))} rounds\n")
print("| ledger | deliveries/s, all nodes | p99 ms (slowest node) | transactions per 1 000 deliveries | PostgreSQL CPU µs per delivery | nodes' CPU µs per delivery |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for mode, of in rows.items():
    m = lambda key: statistics.median(float(r[key]) for r in of)
    print(f"| {mode} | {m('rps'):.0f} | {m('p99_ms'):.2f} | {m('xacts_per_1000'):.1f} | {m('postgres_cpu_us'):.1f} | {m('nodes_cpu_us'):.1f} |")
PY
