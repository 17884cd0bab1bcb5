#!/usr/bin/env bash
# Publisher ingest and feed catch-up: seeds articles (each with a photo, a
# byline and an agency credit) through the same functions the API uses and
# reports articles/s, then reads GET /v1/feed from cursor zero to the end as
# a licensee licensed for every publisher (so every published article is an
# event it hears), over one keep-alive connection, and reports events/s as
# the client sees them.
#
#   bench/feed.sh                         1 000 000 articles on SQLite
#   BENCH_ARTICLES=100000 bench/feed.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/syndicate_feed bench/feed.sh
#
# Knobs: BENCH_ARTICLES (1000000), BENCH_PAGE (1000, the feed's largest
# page). Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

articles=${BENCH_ARTICLES:-1000000}
page=${BENCH_PAGE:-1000}

cargo build --release --quiet --bin syndicate
bin=target/release/syndicate

make_workspace

database_url=${DATABASE_URL:-sqlite://$work/feed.db}
backend=$(prepare_database "$database_url")
export DATABASE_URL=$database_url SYNDICATE_JWT_KEYS=$work/keys SYNDICATE_LOG=warn

echo "bench: seeding $articles articles on $backend" >&2
"$bin" seed --articles "$articles" --publishers 20 --licensees 1 --licences-each 20 > "$work/seed.json"

port=$(free_port)
"$bin" serve --bind "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
wait_ready "http://127.0.0.1:$port"

python3 - "$work" "$port" "$page" "$backend" <<'PY'
import http.client, json, sys, time, urllib.parse
work, port, page, backend = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
seed = json.load(open(f"{work}/seed.json"))
connection = http.client.HTTPConnection("127.0.0.1", port)
client = seed["licensees"][0]["client"]
form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client["client_id"],
                               "client_secret": client["client_secret"]})
connection.request("POST", "/v1/auth/token", body=form,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
token = json.load(connection.getresponse())["access_token"]
headers = {"Authorization": f"Bearer {token}"}

cursor, events, pages, seen = None, 0, 0, set()
started = time.perf_counter()
while True:
    query = {"limit": page} | ({"cursor": cursor} if cursor else {})
    connection.request("GET", "/v1/feed?" + urllib.parse.urlencode(query), headers=headers)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"bench: feed answered {response.status}: {body[:300]!r}")
    batch = json.loads(body)
    pages += 1
    events += len(batch["events"])
    seen.update(e["article_id"] for e in batch["events"] if e["kind"] == "published")
    cursor = batch["next_cursor"]
    if not batch["events"]:
        break
elapsed = time.perf_counter() - started
# Every article was published once: the feed must have told of each.
if len(seen) != seed["articles"]:
    sys.exit(f"bench: FEED INCOMPLETE: {len(seen)} published events for {seed['articles']} articles")
print(f"\n{backend}: {seed['articles']} articles ingested at {seed['articles'] / seed['ingest_seconds']:.0f} articles/s (a photo each)")
print(f"feed catch-up from cursor zero: {events} events in {pages} pages of up to {page} "
      f"in {elapsed:.1f} s = {events / elapsed:.0f} events/s")
PY
