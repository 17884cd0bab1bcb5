//! `syndicate seed`: a dataset for the benchmark, written through the same
//! functions the API uses (validation, sanitising, versioning, the event
//! log), so what is measured is what production serves. Publishers, each
//! with articles that carry a photo, a byline and an agency credit;
//! licensees, each licensed for a few publishers with a quota; and one API
//! client per licensee. Prints the credentials and the articles each
//! licensee may fetch, as JSON.

use chrono::{Duration, Utc};
use serde::Serialize;
use serde_json::json;

use crate::demo::DemoError;
use crate::domain::Role;
use crate::domain::purpose::Purpose;
use crate::licensing::licences::{Price, Quota, QuotaPeriod};
use crate::metering::Period;
use crate::storage::{DbConnection, in_transaction, now, usage};

/// What was made, for the benchmark's load script.
#[derive(Debug, Serialize)]
pub struct Seeded {
    /// An admin client for reports.
    pub admin: Credentials,
    /// One entry per licensee.
    pub licensees: Vec<SeededLicensee>,
    /// Articles written, and how long writing them took.
    pub articles: usize,
    /// Seconds spent writing articles and photos.
    pub ingest_seconds: f64,
    /// Past deliveries recorded in the ledger.
    pub events: usize,
    /// Seconds spent recording them.
    pub events_seconds: f64,
}

/// An API client's credentials.
#[derive(Debug, Serialize)]
pub struct Credentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
}

/// A licensee's client and the articles its licences cover.
#[derive(Debug, Serialize)]
pub struct SeededLicensee {
    /// Its client.
    pub client: Credentials,
    /// Ids of articles it may fetch.
    pub articles: Vec<String>,
}

/// How big a dataset to make.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Publishers.
    pub publishers: usize,
    /// Licensees.
    pub licensees: usize,
    /// Articles, spread evenly over the publishers.
    pub articles: usize,
    /// Publishers each licensee is licensed for.
    pub licences_each: usize,
    /// Past deliveries to record in the ledger.
    pub events: usize,
}

const SECTIONS: &[&str] = &["environment", "business", "transport", "health", "culture"];
const PLACES: &[(&str, &str)] = &[
    ("Portmere", "PORTMERE"),
    ("Glenhollow", "GLENHOLLOW"),
    ("Saltbridge", "SALTBRIDGE"),
    ("Ardvale", "ARDVALE"),
];

/// Writes the dataset; articles go in batches of a few hundred per
/// transaction.
pub fn seed(conn: &mut DbConnection, size: Size) -> Result<Seeded, DemoError> {
    let admin = crate::demo::client(conn, "benchmark admin", Role::Admin, None)?;
    let mut publishers = Vec::with_capacity(size.publishers);
    for p in 0..size.publishers.max(1) {
        let name = format!("Bench Courier {p}");
        let slug = format!("bench-courier-{p}");
        let publisher = crate::demo::publisher(conn, &name, Some(&slug))?;
        let desk = crate::demo::client(conn, "bench desk", Role::Publisher, Some(publisher))?;
        publishers.push((publisher, crate::demo::desk_of(publisher, &desk.0)?));
    }
    let started = std::time::Instant::now();
    let mut by_publisher: Vec<Vec<String>> = vec![Vec::new(); publishers.len()];
    let per_batch = 250;
    let mut written = 0;
    while written < size.articles {
        let batch = per_batch.min(size.articles - written);
        let made = in_transaction(conn, |conn| {
            (written..written + batch)
                .map(|n| {
                    let (_, desk) = &publishers[n % publishers.len()];
                    write_article(conn, desk, n).map(|id| (n % publishers.len(), id))
                })
                .collect::<Result<Vec<_>, DemoError>>()
        })?;
        for (publisher, id) in made {
            by_publisher[publisher].push(id);
        }
        written += batch;
    }
    let ingest_seconds = started.elapsed().as_secs_f64();

    let mut licensees = Vec::with_capacity(size.licensees);
    let mut covered = Vec::new();
    for l in 0..size.licensees {
        let name = format!("Bench Reader {l}");
        let licensee = crate::demo::licensee(conn, &name, &["GB", "IE"])?;
        let mut articles = Vec::new();
        for k in 0..size.licences_each.min(publishers.len()) {
            let index = (l + k) % publishers.len();
            let licence = crate::demo::licence(conn, licensee, publishers[index].0, |terms| {
                terms.valid_from = (now() - Duration::days(1)).and_utc();
                terms.quota = Some(Quota {
                    units: 1_000_000_000,
                    period: QuotaPeriod::Month,
                });
                terms.price_per_unit = Some(Price {
                    amount_minor: 2,
                    currency: "GBP".to_owned(),
                });
            })?;
            articles.extend(by_publisher[index].iter().cloned());
            for article in &by_publisher[index] {
                covered.push((
                    licensee,
                    licence.clone(),
                    publishers[index].0,
                    article.clone(),
                ));
            }
        }
        let client = crate::demo::client(conn, "bench ingest", Role::Licensee, Some(licensee))?;
        licensees.push(SeededLicensee {
            client: Credentials {
                client_id: client.0,
                client_secret: client.1,
            },
            articles,
        });
    }
    let started = std::time::Instant::now();
    let events = past_deliveries(conn, &covered, size.events)?;
    Ok(Seeded {
        admin: Credentials {
            client_id: admin.0,
            client_secret: admin.1,
        },
        licensees,
        articles: written,
        ingest_seconds,
        events,
        events_seconds: started.elapsed().as_secs_f64(),
    })
}

/// (licensee, licence, publisher, article) a licence covers.
type Covered = (uuid::Uuid, String, uuid::Uuid, String);

/// Records `count` past deliveries through the ledger's own batch writer
/// (billing keys, quota counters and all), walking the covered pairs and
/// spreading them evenly over the last 30 days.
fn past_deliveries(
    conn: &mut DbConnection,
    covered: &[Covered],
    count: usize,
) -> Result<usize, DemoError> {
    if covered.is_empty() || count == 0 {
        return Ok(0);
    }
    let end = now();
    let span = Duration::days(30).num_seconds();
    let per_batch = 5_000;
    let mut recorded = 0;
    while recorded < count {
        let batch: Vec<usage::Delivery> = (recorded..count.min(recorded + per_batch))
            .map(|n| {
                let (licensee, licence, publisher, article) = &covered[n % covered.len()];
                let step = i64::try_from(n).unwrap_or(0) * span / i64::try_from(count).unwrap_or(1);
                let at = end - Duration::seconds(span - step);
                let period = Period::Month;
                usage::Delivery {
                    id: uuid::Uuid::now_v7().to_string(),
                    licensee_id: licensee.hyphenated().to_string(),
                    licence_id: licence.clone(),
                    publisher_id: publisher.hyphenated().to_string(),
                    article_id: article.clone(),
                    article_version: 1,
                    tier: "full".to_owned(),
                    format: "json".to_owned(),
                    at,
                    period_start: period.start(at),
                    request_id: uuid::Uuid::now_v7().to_string(),
                    quota: Some(1_000_000_000),
                    unit_price: Some(2),
                    currency: Some("GBP".to_owned()),
                    purpose: Purpose::Display,
                    attribution: None,
                    decided_on: None,
                }
            })
            .collect();
        usage::record_batch(conn, &batch)?;
        recorded += batch.len();
    }
    Ok(recorded)
}

/// One article with a photo, a byline and an agency credit, about 5 KB of
/// body, written for the benchmark.
fn write_article(
    conn: &mut DbConnection,
    desk: &crate::identity::Caller,
    n: usize,
) -> Result<String, DemoError> {
    let (place, dateline) = PLACES[n % PLACES.len()];
    let section = SECTIONS[n % SECTIONS.len()];
    let photo = crate::demo::photo(
        conn,
        desk,
        json!({
            "caption": format!("The harbour at {place} at first light, day {n}."),
            "credit_line": "Photograph: Bench Wire",
            "copyright_holder": "Bench Wire",
            "renditions": [{"href": format!("https://images.example.org/bench/{n}-1200.jpg"),
                            "width": 1200, "height": 800, "mime_type": "image/jpeg"}],
            "rights": {"syndication": "allowed", "expires_at": (Utc::now() + Duration::days(365)).to_rfc3339()},
        }),
    )?;
    let paragraph = format!(
        "<p>Council officers in {place} said on Tuesday that the works on the harbour road \
         would finish a week early, after crews kept the night shifts going through the \
         storm. Traders on the quay welcomed the news; the ferry company said sailings \
         would return to the summer timetable from the first of the month.</p>"
    );
    crate::demo::article(
        conn,
        desk,
        json!({
            "external_ref": format!("bench-{n}"),
            "headline": format!("Harbour road in {place} to reopen a week early ({n})"),
            "standfirst": "Night shifts through the storm kept the works on schedule.",
            "body_html": paragraph.repeat(12),
            "section": section,
            "tags": ["harbour", "roads"],
            "language": "en-GB",
            "bylines": [{"name": "Rosa Quill", "role": "Local affairs reporter", "location": format!("in {place}")}],
            "located": dateline,
            "agency_credits": [{"agency": "Bench Wire", "role": "contributed",
                                "credit_line": "Bench Wire contributed to this report", "redistribution": "allowed"}],
            "media": [{"media_id": photo, "role": "main"}],
            "status": "published",
        }),
    )
}
