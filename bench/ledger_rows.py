"""What SQLite itself spends on the ledger's rows of a delivery, with no
server around it: the usage event (with its three indexes) and the story's
receipt (upserted in key order), in transactions of 4 096 deliveries as the
journal's shipper makes them, on a connection set up as the shipper's (WAL,
`synchronous = FULL`, a 128 KiB page cache), inserted through SQLite's C
API by `executemany`. The floor under the shipper's own CPU a delivery.

    python3 bench/ledger_rows.py DATABASE [BATCHES]

DATABASE is an SQLite file the server has migrated (`syndicate seed
--articles 10` makes one); its ledger grows by BATCHES (60) times 4 096
events.
"""
import datetime
import random
import sqlite3
import sys
import time
import uuid

BATCH = 4096

EVENT = ("INSERT INTO usage_events (id, licensee_id, licence_id, publisher_id, article_id, article_version,"
         " tier, format, at, day, period_start, request_id, billable, unit_price, currency, purpose, attribution)"
         " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
RECEIPT = ("INSERT INTO article_receipts (article_id, licensee_id, day, deliveries, first_at, last_at,"
           " last_licence_id) VALUES (?,?,?,1,?,?,?) ON CONFLICT (article_id, licensee_id, day) DO UPDATE SET"
           " deliveries = deliveries + 1, last_at = excluded.last_at, last_licence_id = excluded.last_licence_id")


def main(path, batches):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA cache_size = -128")
    rng = random.Random(7)
    licensees = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(8)]
    publishers = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(20)]
    articles = [(str(uuid.UUID(int=rng.getrandbits(128))), rng.choice(publishers)) for _ in range(5000)]
    pairs = [(licensee, article, publisher) for licensee in licensees
             for article, publisher in rng.sample(articles, 1500)]
    rng.shuffle(pairs)
    events = []
    for n in range(batches * BATCH):
        licensee, article, publisher = pairs[n % len(pairs)]
        at = datetime.datetime.now(datetime.timezone.utc)
        events.append((str(uuid.uuid1()), licensee, f"licence-{licensee[:8]}-{publisher[:8]}", publisher, article,
                       1, "full", "json", at.strftime("%Y-%m-%d %H:%M:%S.%f"), at.strftime("%Y-%m-%d"),
                       "2026-12-01 00:00:00", str(uuid.uuid4()), 0, 40, "EUR", "display", None))
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(events), BATCH):
        batch = events[start:start + BATCH]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(EVENT, batch)
        conn.executemany(RECEIPT, sorted((e[4], e[1], e[9], e[8], e[8], e[2]) for e in batch))
        conn.execute("COMMIT")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{len(events)} deliveries: {cpu / len(events) * 1e6:.1f} µs CPU and {wall / len(events) * 1e6:.1f} µs"
          " of wall time a delivery (the event and the receipt)")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 60)
