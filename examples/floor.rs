//! The benchmark's floor: the ceiling (a bare actix-web server that checks
//! a static bearer string and answers with fixed bytes from memory) plus
//! the metering the ledger's design requires of every delivery, and
//! nothing else. Each request hands a usage entry to the real usage writer
//! in journal mode and is answered once the entry is synced to the node's
//! journal; the real shipper ships the journal to the SQL ledger. No token
//! is verified, no fact read or rendered, no licence decided: what it costs
//! over the ceiling is what the journal, its billing and quota decisions in
//! memory and shipping cost, the least any delivery can cost in this design.
//!
//! The entries cycle over every (licence, published article of its
//! publisher) pair of the database, shuffled, so billing keys, quota leases
//! and receipts vary as the benchmark's real requests make them vary.
//!
//! `cargo run --release --example floor -- ADDRESS DATABASE_URL JOURNAL_DIR BODY_FILE TOKEN`
//!
//! `GET /metrics` gives the journal's figures (`bench/run.sh` waits on its
//! unshipped entries).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use diesel::prelude::*;
use syndicate::domain::purpose::Purpose;
use syndicate::metering::{JournalSettings, Period, UsageWriter};
use syndicate::storage::changes::{Confirmed, Depends};
use syndicate::storage::health::Health;
use syndicate::storage::licences::LicenceRow;
use syndicate::storage::schema::{articles, licences};
use syndicate::storage::usage::{Delivery, Recorded};
use syndicate::storage::{DatabaseUrl, Pool, PoolSettings};
use syndicate::telemetry::ErrorLog;

/// Facts always current: the floor decides nothing on facts.
struct AlwaysCurrent;

impl Confirmed for AlwaysCurrent {
    fn confirmed_at(&self) -> Option<Instant> {
        Some(Instant::now())
    }

    fn changed_since(&self, _: &Depends) -> Option<i64> {
        None
    }
}

/// What an entry is made of, per pair.
struct Pair {
    licence: LicenceRow,
    article_id: String,
    article_version: i32,
}

struct Floor {
    body: web::Bytes,
    authorization: String,
    pairs: Vec<Pair>,
    next: AtomicUsize,
    usage: UsageWriter,
    registry: prometheus::Registry,
}

async fn content(req: HttpRequest, floor: web::Data<Floor>) -> HttpResponse {
    let allowed = req
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes() == floor.authorization.as_bytes());
    if !allowed {
        return HttpResponse::Unauthorized().finish();
    }
    let pair = &floor.pairs[floor.next.fetch_add(1, Ordering::Relaxed) % floor.pairs.len()];
    let licence = &pair.licence;
    let at = syndicate::storage::now();
    let quota = licence.quota().ok().flatten();
    let price = licence.price_for(Purpose::Display).ok().flatten();
    let delivery = Delivery {
        id: uuid::Uuid::now_v7().to_string(),
        licensee_id: licence.licensee_id.clone(),
        licence_id: licence.id.clone(),
        publisher_id: licence.publisher_id.clone(),
        article_id: pair.article_id.clone(),
        article_version: pair.article_version,
        tier: licence.tier.clone(),
        format: "json".to_owned(),
        at,
        period_start: Period::of(quota.as_ref()).start(at),
        request_id: uuid::Uuid::now_v7().to_string(),
        quota: licence.quota_units,
        unit_price: price.as_ref().map(|p| p.amount_minor),
        currency: price.map(|p| p.currency),
        purpose: Purpose::Display,
        attribution: None,
        decided_on: None,
    };
    match floor.usage.record(delivery).await {
        Ok(Recorded::Delivered { .. }) => HttpResponse::Ok()
            .content_type("application/json")
            .body(floor.body.clone()),
        Ok(Recorded::OverQuota { .. } | Recorded::Stale { .. }) => {
            HttpResponse::TooManyRequests().finish()
        }
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn metrics(floor: web::Data<Floor>) -> HttpResponse {
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&floor.registry.gather())
        .unwrap_or_default();
    HttpResponse::Ok().content_type("text/plain").body(text)
}

/// Every (licence, published article of its publisher) pair, shuffled.
fn pairs(pool: &Pool) -> std::io::Result<Vec<Pair>> {
    let other = |e: &dyn std::fmt::Display| std::io::Error::other(e.to_string());
    let mut conn = pool.get().map_err(|e| other(&e))?;
    let licences: Vec<LicenceRow> = licences::table
        .select(LicenceRow::as_select())
        .load(&mut *conn)
        .map_err(|e| other(&e))?;
    let published: Vec<(String, String, i32)> = articles::table
        .filter(articles::status.eq("published"))
        .select((articles::id, articles::publisher_id, articles::version))
        .load(&mut *conn)
        .map_err(|e| other(&e))?;
    let mut pairs = Vec::new();
    for licence in &licences {
        for (id, publisher, version) in &published {
            if *publisher == licence.publisher_id {
                pairs.push(Pair {
                    licence: licence.clone(),
                    article_id: id.clone(),
                    article_version: *version,
                });
            }
        }
    }
    if pairs.is_empty() {
        return Err(std::io::Error::other(
            "the database has no licensed article",
        ));
    }
    // Fisher-Yates with a fixed xorshift, the same order on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..pairs.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = usize::try_from(state % (i as u64 + 1)).unwrap_or(0);
        pairs.swap(i, j);
    }
    Ok(pairs)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage =
        || std::io::Error::other("usage: floor ADDRESS DATABASE_URL JOURNAL_DIR BODY_FILE TOKEN");
    let address = args.next().ok_or_else(usage)?;
    let url = DatabaseUrl::parse(&args.next().ok_or_else(usage)?)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let journal = JournalSettings {
        dir: args.next().ok_or_else(usage)?.into(),
        max_bytes: 1 << 30,
        freshness: Duration::from_secs(1),
    };
    let body = std::fs::read(args.next().ok_or_else(usage)?)?;
    let token = args.next().ok_or_else(usage)?;
    let pool = syndicate::storage::pool(
        &url,
        &PoolSettings {
            max_size: 4,
            connection_timeout: Duration::from_secs(5),
        },
    );
    let pairs = pairs(&pool)?;
    let registry = prometheus::Registry::new();
    let errors = ErrorLog::new(&registry, Duration::from_secs(60))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let (usage, writer) = UsageWriter::start(
        pool,
        &url,
        Some(&journal),
        Arc::new(AlwaysCurrent),
        &registry,
        errors,
        Health::new(&url),
    )?;
    let floor = web::Data::new(Floor {
        body: body.into(),
        authorization: format!("Bearer {token}"),
        pairs,
        next: AtomicUsize::new(0),
        usage,
        registry,
    });
    let served = actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(floor.clone())
                .route("/v1/content/{id}", web::get().to(content))
                .route("/metrics", web::get().to(metrics))
        })
        .bind(address)?
        .run()
        .await
    });
    writer.stop();
    served
}
