//! Usage reports people can read: every row labelled beside its key, the
//! labels escaped in CSV and in the SVG chart, and the chart drawing every
//! day of the range.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::harness::{json_of, merged};
use crate::world::{Party, World};

/// Markup and CSV characters, quotes of both kinds and Chinese in one
/// headline.
const MARKED: &str = "Tide <&> \"surge\", 潮汐 at 'Ardvale'";
/// A headline in Chinese only.
const CJK: &str = "长江洪水预警：新华社记者在武汉报道";

/// Publishes a story with `headline` as the desk and returns its id.
async fn story(w: &World, desk: &Party, external_ref: &str, headline: &str) -> String {
    let body = json!({
        "external_ref": external_ref, "headline": headline,
        "body_html": "<p>The river rose overnight.</p>", "section": "news", "language": "en",
        "bylines": [], "status": "published",
    });
    w.article(desk, &body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Fetches each id as the reader, expecting 200, and waits for the ledger.
async fn deliver(w: &World, reader: &Party, ids: &[&String]) {
    for id in ids {
        assert_eq!(w.fetch(&reader.token, id).await.status(), 200, "{id}");
    }
    w.app.settled().await;
}

/// Each row's label by key.
fn labels(report: &Value) -> BTreeMap<String, String> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["key"].as_str().unwrap().to_owned(),
                row["label"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn map<const N: usize>(pairs: [(&str, &str); N]) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Reads RFC 4180 CSV strictly: every record ends in CRLF; a quoted field
/// may hold commas, line breaks and doubled quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            '"' => panic!("a quote inside an unquoted field: {text}"),
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "a record ends in CRLF: {text}");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            '\n' => panic!("a bare LF ends no record: {text:?}"),
            c => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "the last record ends in CRLF: {text:?}"
    );
    records
}

/// Midnight (UTC) of `day`, as a query value.
fn midnight(day: NaiveDate) -> String {
    format!("{day}T00:00:00Z")
}

crate::backend_tests! {
    async fn every_report_row_is_labelled_with_the_headline_or_name_of_its_key(backend: Backend) {
        let w = World::new(backend).await;
        let xinhua = w.publisher("新华社").await;
        let gazette = w.publisher("Harbour Gazette").await;
        let reader = w.licensee("Morning Brief", &["GB"]).await;
        let priced = json!({"include_media": false, "price_per_unit": {"amount_minor": 25, "currency": "GBP"}});
        let full = w.licence(&xinhua, &reader, priced.clone()).await;
        let preview = w.licence(&gazette, &reader, merged(priced, json!({"tier": "preview"}))).await;
        let river = story(&w, &xinhua, "xh-1", CJK).await;
        let tide = story(&w, &gazette, "hg-1", MARKED).await;
        deliver(&w, &reader, &[&river, &tide, &tide]).await;

        let mut reports = BTreeMap::new();
        for group_by in ["day", "article", "publisher", "licensee", "licence"] {
            let path = format!("/v1/usage?group_by={group_by}");
            reports.insert(group_by, json_of(w.app.get_as(&w.admin, &path).await).await);
        }
        let by_publisher = json_of(w.app.get_as(&reader.token, "/v1/usage?group_by=publisher").await).await;

        assert_eq!(labels(&reports["article"]), map([(&river, CJK), (&tide, MARKED)]));
        let publishers = map([(&xinhua.id, "新华社"), (&gazette.id, "Harbour Gazette")]);
        assert_eq!(labels(&reports["publisher"]), publishers);
        assert_eq!(labels(&by_publisher), publishers, "a licensee reads its publishers' names");
        assert_eq!(labels(&reports["licensee"]), map([(&reader.id, "Morning Brief")]));
        assert_eq!(labels(&reports["licence"]), map([
            (&full, "Morning Brief ← 新华社 (full)"),
            (&preview, "Morning Brief ← Harbour Gazette (preview)"),
        ]));
        let days = labels(&reports["day"]);
        assert!(!days.is_empty() && days.iter().all(|(key, label)| key == label), "{days:?}");
        let expected = json!({"deliveries": 3, "billable_units": 2, "amounts": [{"currency": "GBP", "amount_minor": 50}]});
        for (group_by, report) in &reports {
            assert_eq!(report["totals"], expected, "{group_by}");
            let rows = report["rows"].as_array().unwrap();
            let sum = |field: &str| rows.iter().map(|r| r[field].as_i64().unwrap()).sum::<i64>();
            assert_eq!((sum("deliveries"), sum("billable_units"), sum("amount_minor")), (3, 2, 50), "{group_by}");
        }
        assert_eq!(w.ledger(&full).await, (1, 1));
        assert_eq!(w.ledger(&preview).await, (2, 1));
    }

    async fn csv_quotes_labels_as_rfc_4180_says_and_holds_the_json_rows(backend: Backend) {
        let w = World::new(backend).await;
        let deal = w.deal("新华社", "Morning Brief", &["GB"], json!({"include_media": false})).await;
        let tide = story(&w, &deal.desk, "t-1", MARKED).await;
        let river = story(&w, &deal.desk, "r-1", CJK).await;
        deliver(&w, &deal.reader, &[&tide, &river, &river]).await;

        let response = w.app.client.get(w.app.url("/v1/usage?group_by=article&format=csv"))
            .bearer_auth(&deal.reader.token).send().await.unwrap();
        let report = json_of(w.app.get_as(&deal.reader.token, "/v1/usage?group_by=article").await).await;

        assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
        let text = response.text().await.unwrap();
        assert!(text.contains(",\"Tide <&> \"\"surge\"\", 潮汐 at 'Ardvale'\","), "{text}");
        let records = parse_csv(&text);
        assert_eq!(records[0], ["key", "label", "currency", "deliveries", "billable_units", "amount_minor"]);
        let from_json: Vec<Vec<String>> = report["rows"].as_array().unwrap().iter().map(|r| vec![
            r["key"].as_str().unwrap().to_owned(),
            r["label"].as_str().unwrap().to_owned(),
            r["currency"].as_str().unwrap_or("").to_owned(),
            r["deliveries"].to_string(),
            r["billable_units"].to_string(),
            r["amount_minor"].to_string(),
        ]).collect();
        assert_eq!(records[1..], from_json[..]);
        assert_eq!(labels(&report), map([(&tide, MARKED), (&river, CJK)]));
    }

    async fn the_chart_draws_every_day_of_the_range_and_names_the_largest_groups_by_label(backend: Backend) {
        let w = World::new(backend).await;
        let terms = json!({"include_media": false, "price_per_unit": {"amount_minor": 25, "currency": "GBP"}});
        let deal = w.deal("Harbour Gazette", "Morning Brief", &["GB"], terms).await;
        let mut ids = Vec::new();
        for i in 0..8 {
            let headline = match i {
                0 => MARKED.to_owned(),
                1 => CJK.to_owned(),
                i => format!("Ferry timetable change {i}"),
            };
            ids.push(story(&w, &deal.desk, &format!("s-{i}"), &headline).await);
        }
        // The i-th story 8 - i times: six of them outrank the last two.
        let fetches: Vec<&String> = ids.iter().enumerate().flat_map(|(i, id)| std::iter::repeat_n(id, 8 - i)).collect();
        let today = Utc::now().date_naive();
        deliver(&w, &deal.reader, &fetches).await;
        let range = format!("from={}&to={}", midnight(today - Duration::days(2)), midnight(today + Duration::days(2)));

        let response = w.app.get_as(&deal.reader.token, &format!("/v1/usage?group_by=article&format=svg&{range}")).await;
        let report = json_of(w.app.get_as(&deal.reader.token, &format!("/v1/usage?group_by=article&{range}")).await).await;

        assert_eq!(response.headers()["content-type"], "image/svg+xml");
        let svg = response.text().await.unwrap();
        let document = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
        assert_eq!(document.root_element().tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
        let titles: Vec<&str> = document.descendants().filter(|n| n.has_tag_name("title")).filter_map(|n| n.text()).collect();
        // The legend: the six largest by their headlines, then the others.
        for legend in [format!("{MARKED}: 8 deliveries"), format!("{CJK}: 7 deliveries"), "Ferry timetable change 5: 3 deliveries".to_owned(), "2 others: 3 deliveries".to_owned()] {
            assert!(titles.contains(&legend.as_str()), "{legend} missing from {titles:#?}");
        }
        assert!(!svg.contains("Ferry timetable change 6") && !svg.contains("Ferry timetable change 7"));
        assert!(svg.contains("Tide &lt;&amp;&gt; &quot;surge&quot;, 潮汐 at &apos;Ardvale&apos;"));
        assert!(ids.iter().all(|id| !svg.contains(id.as_str())), "labels, not ids");
        assert!(!svg.contains("<script") && !svg.contains("href"));
        // Every day of the range, in order, with its figures.
        let days: Vec<(&str, &str)> = titles.iter().filter_map(|t| {
            let (day, figures) = t.split_once(": ")?;
            (day.len() == 16 && day.as_bytes()[4] == b'-' && day.ends_with(')')).then(|| (&day[..10], figures))
        }).collect();
        let expected_days: Vec<String> = (-2..2).map(|d| (today + Duration::days(d)).to_string()).collect();
        assert_eq!(days.iter().map(|(day, _)| day.to_string()).collect::<Vec<_>>(), expected_days);
        assert_eq!(days[0].1, "0 deliveries, 0 billable units, GBP 0.00");
        assert_eq!(days[1].1, "0 deliveries, 0 billable units, GBP 0.00");
        let count = |figures: &str, unit: &str| -> i64 {
            figures.split(", ").find_map(|f| f.strip_suffix(unit)).unwrap().trim().parse().unwrap()
        };
        let drawn: (i64, i64) = days.iter().fold((0, 0), |(d, b), (_, f)| (d + count(f, "deliveries"), b + count(f, "billable units")));
        assert_eq!(drawn, (36, 8));
        assert_eq!(report["totals"], json!({"deliveries": 36, "billable_units": 8, "amounts": [{"currency": "GBP", "amount_minor": 200}]}));
        assert!(svg.contains("36 deliveries · 8 billable units · GBP 2.00"), "the subtitle sums the range");
    }
}
