#!/usr/bin/env bash
# Deliveries while publishers write: the metered GET /v1/content/{id} under
# wrk, in alternating rounds without and with four publishers' desks
# ingesting new articles (other articles than those delivered, of the same
# publishers) at BENCH_WRITE_RATE articles/s in total. A write must refuse
# no delivery and decide none again: the script prints the deliveries
# refused (any answer but 200), the redecisions the server counted
# (syndicate_delivery_redecisions_total), the articles written per second,
# and the delivery throughput with writers over without.
#
#   bench/writers.sh                  2 000 articles on SQLite
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/syndicate_bench bench/writers.sh
#
# Knobs: BENCH_ARTICLES (2000), BENCH_ROUNDS (2 of each, alternating, after
# a warm-up round without writers that is not counted), BENCH_SECONDS (10),
# BENCH_CONNECTIONS (12), BENCH_THREADS (2), BENCH_WRITE_RATE (400: the
# writers pause 4000/rate ms between requests each, so they reach a little
# less; the achieved rate is printed). Needs python3 and wrk (installed
# with apt-get when missing and run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

articles=${BENCH_ARTICLES:-2000}
rounds=${BENCH_ROUNDS:-2}
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-12}
threads=${BENCH_THREADS:-2}
write_rate=${BENCH_WRITE_RATE:-400}
desks=4

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

cargo build --release --quiet --bin syndicate
bin=target/release/syndicate

make_workspace
database_url=${DATABASE_URL:-sqlite://$work/bench.db}
export DATABASE_URL=$database_url SYNDICATE_JWT_KEYS=$work/keys SYNDICATE_LOG=warn SYNDICATE_TOKEN_TTL=3600
backend=$(prepare_database "$database_url")
echo "bench: seeding $articles articles on $backend" >&2
"$bin" seed --articles "$articles" > "$work/seed.json"

port=$(free_port)
base=http://127.0.0.1:$port
"$bin" serve --bind "127.0.0.1:$port" >> "$work/serve.log" 2>&1 &
server=$!
wait_ready "$base"

# Tokens of every licensee (the requests for wrk, shuffled) and of a new
# desk client for each of the first four publishers (the writers).
python3 bench/requests.py "$work" "$base"
python3 - "$work" "$base" "$desks" <<'PY'
import json, sys, urllib.parse, urllib.request
work, base, desks = sys.argv[1], sys.argv[2], int(sys.argv[3])
seed = json.load(open(f"{work}/seed.json"))

def token(client_id, secret):
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id,
                                   "client_secret": secret}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/v1/auth/token", data=form)) as response:
        return json.load(response)["access_token"]

def call(method, path, bearer, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + bearer, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)

admin = open(f"{work}/admin.token").read()
pairs = open(f"{work}/requests.txt").read().splitlines()
publishers = call("GET", "/v1/publishers?limit=100", admin)["items"][:desks]
with open(f"{work}/desks.txt", "w") as out:
    for publisher in publishers:
        client = call("POST", "/v1/clients", admin,
                      {"name": "writers bench desk", "role": "publisher", "organisation_id": publisher["id"]})
        out.write(token(client["client_id"], client["client_secret"]) + "\n")
print(f"bench: deliveries over {len(pairs)} (licensee, article) pairs; {len(publishers)} desks write", file=sys.stderr)
PY

redecisions() {
    curl -sf "$base/metrics" | awk '/^syndicate_delivery_redecisions_total / { n = $2 } END { printf "%d", n }'
}

deliveries() { # name
    BENCH_REQUESTS=$work/requests.txt wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency \
        -s bench/delivery.lua "$base" | grep '^BENCH' | sed "s/^BENCH/$1/"
}

writers() { # run
    BENCH_DESKS=$work/desks.txt BENCH_RUN=$1 BENCH_PAUSE_MS=$((4000 / write_rate)) \
        wrk -t"$desks" -c"$desks" -d"$((seconds + 2))s" -s bench/ingest.lua "$base" | grep '^WRITERS'
}

results=$work/results
: > "$results"
deliveries warmup > /dev/null
for round in $(seq 1 "$rounds"); do
    before=$(redecisions)
    line=$(deliveries alone)
    echo "$line redecisions=$(($(redecisions) - before))" | tee -a "$results" >&2
    writers "$round" > "$work/writers.out" &
    load=$!
    sleep 1
    before=$(redecisions)
    line=$(deliveries writing)
    after=$(redecisions)
    wait "$load"
    echo "$line redecisions=$((after - before)) $(sed 's/^WRITERS //' "$work/writers.out")" | tee -a "$results" >&2
done

python3 - "$results" "$backend" "$articles" "$connections" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    rows.setdefault(parts[0], []).append(dict(p.split("=") for p in parts[1:]))
def median(name, key):
    return statistics.median(float(r[key]) for r in rows[name])
def total(name, key):
    return sum(int(float(r[key])) for r in rows[name])
print(f"\n{sys.argv[2]}, {sys.argv[3]} articles, {sys.argv[4]} delivery connections, "
      f"{len(rows['alone'])} alternating rounds each (medians; refused and redecisions summed)\n")
print("| | deliveries/s | p99 ms | refused (not 200) | redecisions | articles written/s |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for name in ("alone", "writing"):
    rate = f"{median(name, 'rate'):.0f}" if name == "writing" else ""
    print(f"| {'without' if name == 'alone' else 'with'} writers | {median(name, 'rps'):.0f} | {median(name, 'p99_ms'):.2f} | "
          f"{total(name, 'other') + total(name, 'errors')} | {total(name, 'redecisions')} | {rate} |")
print(f"| with / without | {median('writing', 'rps') / median('alone', 'rps'):.2f} | "
      f"{median('writing', 'p99_ms') / median('alone', 'p99_ms'):.2f} | | | |")
if median("writing", "rate") < 300:
    print(f"\nbench: the writers reached only {median('writing', 'rate'):.0f} articles/s (fewer than 300)", file=sys.stderr)
if total("writing", "other"):
    print(f"bench: {total('writing', 'other')} deliveries were refused while publishers wrote", file=sys.stderr)
PY
