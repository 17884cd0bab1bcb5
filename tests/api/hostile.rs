//! The hostile-input battery: what a licensee that wants more than it paid
//! for, a publisher curious about a competitor or a script sending garbage
//! might send, each with the 4xx problem it must get and no row written.
//! Markup that could run in a reader's browser is sanitised, not refused,
//! and metacharacters in a search are only text.

use std::io::{Read, Write};

use serde_json::{Value, json};

use crate::cast::{Cast, Who, story};
use crate::harness::expect_problem;

/// What a case sends as its body.
enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

struct Case {
    name: &'static str,
    who: Who,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Body,
    status: u16,
    /// Answered by actix's HTTP/1 parser before any of our code runs: the
    /// status is right but the body is empty (the parser has no hook for a
    /// problem document).
    parser: bool,
}

fn case(
    name: &'static str,
    who: Who,
    method: &'static str,
    path: &str,
    body: Body,
    status: u16,
) -> Case {
    Case {
        name,
        who,
        method,
        path: path.to_owned(),
        headers: Vec::new(),
        body,
        status,
        parser: false,
    }
}

fn with_headers(mut case: Case, headers: Vec<(String, String)>) -> Case {
    case.headers = headers;
    case
}

fn refused_by_the_parser(mut case: Case) -> Case {
    case.parser = true;
    case
}

/// A story with one field changed.
fn story_with(field: &str, value: Value) -> Body {
    let mut body = story("hg-hostile", "draft");
    body[field] = value;
    Body::Json(body)
}

/// A licence for licensee B with one field changed.
fn licence_with(cast: &Cast, field: &str, value: Value) -> Body {
    let mut body = json!({"licensee_id": cast.id("licensee_b"), "publisher_id": cast.id("publisher_a"),
                          "tier": "full", "include_media": false, "valid_from": "2026-01-01T00:00:00Z"});
    body[field] = value;
    Body::Json(body)
}

#[rustfmt::skip]
fn battery(cast: &Cast, cursors: &Cursors) -> Vec<Case> {
    use Who::*;
    let article = cast.id("article_a");
    let mib = 1024 * 1024;
    let oversized = format!("{{\"name\": \"{}\"}}", "x".repeat(mib + 1 - 12)).into_bytes();
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000)).into_bytes();
    let many_headers: Vec<(String, String)> = (0..97).map(|i| (format!("x-filler-{i}"), "1".to_owned())).collect();
    vec![
        case("non-UUID id", PublisherA, "GET", "/v1/articles/not-a-uuid", Body::None, 400),
        case("overlong id", PublisherA, "GET", &format!("/v1/articles/{article}{}", "0".repeat(5000)), Body::None, 400),
        case("SQL in an id", LicenseeA, "GET", "/v1/content/1'%20OR%20'1'='1", Body::None, 400),
        case("limit=0", Admin, "GET", "/v1/publishers?limit=0", Body::None, 422),
        case("limit=-1", Admin, "GET", "/v1/publishers?limit=-1", Body::None, 422),
        case("limit=1e9", Admin, "GET", "/v1/publishers?limit=1e9", Body::None, 400),
        case("limit=abc", Admin, "GET", "/v1/publishers?limit=abc", Body::None, 400),
        case("feed limit=1001", LicenseeA, "GET", "/v1/feed?limit=1001", Body::None, 422),
        case("garbage cursor", LicenseeA, "GET", "/v1/content?cursor=%00%FF%FE", Body::None, 404),
        case("tampered cursor", LicenseeA, "GET", &format!("/v1/feed?cursor={}", cursors.tampered), Body::None, 404),
        case("another licensee's cursor", LicenseeB, "GET", &format!("/v1/feed?cursor={}", cursors.licensee_a), Body::None, 404),
        case("another list's cursor", Admin, "GET", &format!("/v1/licensees?cursor={}", cursors.publishers), Body::None, 404),
        case("body of 1 MiB + 1 byte", Admin, "POST", "/v1/publishers", Body::Raw("application/json", oversized), 413),
        case("JSON nested 1000 deep", PublisherA, "POST", "/v1/articles", Body::Raw("application/json", deep), 400),
        case("duplicate keys", Admin, "POST", "/v1/publishers",
             Body::Raw("application/json", br#"{"name": "Coast Herald", "name": "Valley Courier"}"#.to_vec()), 400),
        case("wrong type", PublisherA, "POST", "/v1/articles", story_with("headline", json!(5)), 400),
        case("unknown field", PublisherA, "POST", "/v1/articles", story_with("paywall", json!(false)), 400),
        case("a webhook to the cloud metadata address", LicenseeA, "POST", "/v1/webhooks",
             Body::Json(json!({"url": "http://169.254.169.254/latest/meta-data/", "event_types": ["article.killed"]})), 422),
        case("a webhook URL with NUL", LicenseeA, "POST", "/v1/webhooks",
             Body::Json(json!({"url": "https://hooks.example.org/\u{0}", "event_types": ["article.killed"]})), 422),
        case("an acknowledgement from the future", LicenseeA, "POST", &format!("/v1/notices/{}/acknowledge", cast.id("notice_a")),
             Body::Json(json!({"removed_at": "2999-01-01T00:00:00Z"})), 409),
        case("NUL in a headline", PublisherA, "POST", "/v1/articles", story_with("headline", json!("Pier\u{0}opens")), 422),
        case("lone surrogate", PublisherA, "POST", "/v1/articles",
             Body::Raw("application/json", br#"{"external_ref": "hg-x", "headline": "\udc00"}"#.to_vec()), 400),
        case("100 000-character headline", PublisherA, "POST", "/v1/articles", story_with("headline", json!("a".repeat(100_000))), 422),
        case("301 emoji in a 300-character headline", PublisherA, "POST", "/v1/articles", story_with("headline", json!("⛴".repeat(301))), 422),
        case("301 right-to-left characters", PublisherA, "POST", "/v1/articles", story_with("headline", json!("ر".repeat(301))), 422),
        case("a date out of range", LicenseeA, "GET", "/v1/content?published_since=10000-01-01T00:00:00Z", Body::None, 400),
        case("a date without a time zone", PublisherA, "POST", "/v1/articles", story_with("embargo_until", json!("2030-01-01T06:00:00")), 400),
        case("a territory that is not ISO 3166", Admin, "POST", "/v1/licensees", Body::Json(json!({"name": "Dawn Post", "territories": ["UK"]})), 422),
        case("a negative quota", Admin, "POST", "/v1/licences", licence_with(cast, "quota", json!({"units": -1, "period": "day"})), 422),
        case("a negative price", Admin, "POST", "/v1/licences", licence_with(cast, "price_per_unit", json!({"amount_minor": -5, "currency": "GBP"})), 422),
        case("a licensee raising its own quota", LicenseeA, "PATCH", &format!("/v1/licences/{}", cast.id("licence_a")),
             Body::Json(json!({"quota": {"units": 1_000_000, "period": "day"}})), 403),
        case("a licensee reactivating itself", LicenseeA, "PATCH", &format!("/v1/licensees/{}", cast.id("licensee_a")),
             Body::Json(json!({"status": "active"})), 403),
        case("a publisher writing for a competitor", PublisherB, "POST", "/v1/articles",
             story_with("publisher_id", json!(cast.id("publisher_a"))), 403),
        case("a publisher editing a competitor's story", PublisherB, "POST", &format!("/v1/articles/{article}/kill"),
             Body::Json(json!({"reason": "Gone."})), 404),
        case("JSON sent as text/plain", Admin, "POST", "/v1/publishers",
             Body::Raw("text/plain", br#"{"name": "Coast Herald"}"#.to_vec()), 415),
        case("a body that is an array", Admin, "POST", "/v1/publishers", Body::Raw("application/json", b"[null]".to_vec()), 400),
        case("an unsigned token", Nobody, "GET", "/v1/me", Body::None, 401),
        refused_by_the_parser(with_headers(case("97 headers", Admin, "GET", "/v1/me", Body::None, 431), many_headers)),
        refused_by_the_parser(with_headers(case("a 200 KiB header", Admin, "GET", "/v1/me", Body::None, 431),
                     vec![("x-filler".to_owned(), "a".repeat(200 * 1024))])),
        with_headers(case("an If-Match longer than any ETag", PublisherA, "POST", &format!("/v1/articles/{}/publish", cast.id("draft_a")), Body::None, 400),
                     vec![("if-match".to_owned(), format!("\"v{}\"", "9".repeat(200)))]),
    ]
}

/// Cursors handed out during setup, for the cursor cases.
struct Cursors {
    licensee_a: String,
    tampered: String,
    publishers: String,
}

async fn cursors(cast: &Cast) -> Cursors {
    let app = &cast.world.app;
    let feed: Value = app
        .get_as(cast.token(Who::LicenseeA).unwrap(), "/v1/feed?limit=1")
        .await
        .json()
        .await
        .unwrap();
    let licensee_a = feed["next_cursor"].as_str().unwrap().to_owned();
    let mut tampered: Vec<char> = licensee_a.chars().collect();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == 'A' { 'B' } else { 'A' };
    let page: Value = app
        .get_as(cast.token(Who::Admin).unwrap(), "/v1/publishers?limit=1")
        .await
        .json()
        .await
        .unwrap();
    Cursors {
        licensee_a,
        tampered: tampered.into_iter().collect(),
        publishers: page["next_cursor"].as_str().unwrap().to_owned(),
    }
}

/// Writes `head`, then `chunks` as a chunked body (if any), over a socket of
/// its own, ignoring write errors (the server may answer and close before
/// reading everything); returns the response's status line.
fn exchange(address: &str, head: &[u8], chunks: &[Vec<u8>]) -> String {
    let host = address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut wrote = stream.write_all(head);
    for chunk in chunks {
        if wrote.is_err() {
            break;
        }
        wrote = stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .and_then(|()| stream.write_all(chunk))
            .and_then(|()| stream.write_all(b"\r\n"));
    }
    if !chunks.is_empty() && wrote.is_ok() {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Sends a body of 1 MiB + 1 byte in chunks, with no Content-Length.
fn chunked_oversized(address: &str, token: &str) -> String {
    let host = address.trim_start_matches("http://");
    let head = format!(
        "POST /v1/publishers HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
                        Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let chunks = vec![vec![b' '; 64 * 1024]; 17];
    exchange(address, head.as_bytes(), &chunks)
}

crate::backend_tests! {
    async fn hostile_input_gets_its_4xx_problem_and_writes_nothing(backend: Backend) {
        let cast = Cast::assemble(backend).await;
        let app = &cast.world.app;
        let cursors = cursors(&cast).await;
        let battery = battery(&cast, &cursors);
        assert!(battery.len() >= 30);
        let mut misses = Vec::new();

        for case in battery {
            let before = app.snapshot();
            if case.parser {
                // The parser answers and closes while a client may still be
                // writing, so these go over a socket of their own.
                let mut head = format!("{} {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n",
                                       case.method, case.path, cast.token(case.who).unwrap_or_default());
                for (name, value) in &case.headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let address = app.address.clone();
                let status_line = tokio::task::spawn_blocking(move || exchange(&address, head.as_bytes(), &[])).await.unwrap();
                if !status_line.contains(&format!(" {} ", case.status)) {
                    misses.push(format!("{}: {status_line}, expected {}", case.name, case.status));
                }
                assert_eq!(app.snapshot(), before, "{} wrote", case.name);
                continue;
            }
            let mut request = app.client.request(case.method.parse().unwrap(), app.url(&case.path));
            if let Some(token) = cast.token(case.who) {
                request = request.bearer_auth(token);
            } else if case.name == "an unsigned token" {
                request = request.bearer_auth("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
            }
            for (name, value) in &case.headers {
                request = request.header(name, value);
            }
            request = match case.body {
                Body::None => request,
                Body::Json(body) => request.json(&body),
                Body::Raw(content_type, bytes) => request.header("content-type", content_type).body(bytes),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            if status != case.status {
                misses.push(format!("{}: {status}, expected {}: {}", case.name, case.status, response.text().await.unwrap()));
                continue;
            }
            let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
            if content_type.as_deref() != Some("application/problem+json") {
                misses.push(format!("{}: {status} with content type {content_type:?}", case.name));
                continue;
            }
            expect_problem(response, case.status).await;
            assert_eq!(app.snapshot(), before, "{} wrote", case.name);
        }
        assert!(misses.is_empty(), "{}", misses.join("\n"));

        let before = app.snapshot();
        let token = cast.token(Who::Admin).unwrap().to_owned();
        let address = app.address.clone();
        let status_line = tokio::task::spawn_blocking(move || chunked_oversized(&address, &token)).await.unwrap();
        assert!(status_line.contains(" 413 "), "chunked body over the limit: {status_line}");
        assert_eq!(app.snapshot(), before, "the chunked body wrote");
    }

    async fn markup_that_could_run_is_sanitised_not_refused(backend: Backend) {
        let cast = Cast::assemble(backend).await;
        let app = &cast.world.app;
        let desk = cast.token(Who::PublisherA).unwrap();
        let mut body = story("hg-markup", "published");
        body["body_html"] = json!("<p onclick=\"steal()\">Pier opens.</p><script>steal()</script>\
            <img src=\"https://images.example.org/p.jpg\" onerror=\"steal()\" alt=\"pier\">\
            <a href=\"javascript:steal()\">timetable</a><a href=\"https://example.org/t\">ok</a>");

        let response = app.post_as(desk, "/v1/articles", &body).await;

        assert_eq!(response.status(), 201);
        let stored: Value = response.json().await.unwrap();
        let html = stored["body_html"].as_str().unwrap();
        for active in ["<script", "steal()", "onerror", "onclick", "javascript:"] {
            assert!(!html.contains(active), "{active} survived: {html}");
        }
        assert!(html.contains("Pier opens.") && html.contains("https://example.org/t"), "{html}");
    }

    async fn sql_and_like_metacharacters_in_a_search_are_only_text(backend: Backend) {
        let cast = Cast::assemble(backend).await;
        let app = &cast.world.app;
        let reader = cast.token(Who::LicenseeA).unwrap();
        let all: Value = app.get_as(reader, "/v1/content").await.json().await.unwrap();
        let before = app.snapshot();

        for q in ["'; DROP TABLE articles; --", "%", "_", "\\%' OR 1=1 --", "pier%", "\"ferry\" OR \"x\"", "ferry' UNION SELECT * FROM api_clients --"] {
            let path = format!("/v1/content?q={}", percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC));
            let response = app.get_as(reader, &path).await;
            assert_eq!(response.status(), 200, "{q}");
            let found: Value = response.json().await.unwrap();
            assert!(found["items"].as_array().unwrap().len() <= all["items"].as_array().unwrap().len(), "{q}");
        }
        let pier: Value = app.get_as(reader, "/v1/content?q=pier%25").await.json().await.unwrap();
        assert!(!pier["items"].as_array().unwrap().is_empty(), "the words of a search still match");
        assert_eq!(app.snapshot(), before, "a search wrote");
    }
}
