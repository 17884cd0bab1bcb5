//! Faults from outside, against the real application: a disk that fills
//! up, a transaction that fails for lack of space, bodies that are refused
//! early or arrive too slowly. (The database that does not answer is in
//! `ops.rs`; the log under a flood of failures, and what the process reads
//! of a refused body, in `binary/faults.rs`.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use serde_json::Value;
use syndicate::storage::{self, DatabaseUrl, SqliteTarget, StorageError};

use crate::cast::{Cast, Who};
use crate::harness::{Backend, TestDatabase, expect_problem, spawn_app_with, start, test_settings};
use crate::matrix;
use crate::world::World;

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let output = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "could not mount a tmpfs: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Fills the filesystem to the last byte; returns the filler file.
    fn fill(&self) -> std::path::PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        for size in [1 << 20, 4096, 512, 1] {
            let chunk = vec![0u8; size];
            while matches!(file.write(&chunk), Ok(n) if n > 0) {}
        }
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: the server may still hold the database open.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The value of one sample in Prometheus text, if present.
fn metric(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.trim().parse().ok())
}

#[actix_web::test]
#[cfg_attr(
    not(tmpfs_tests),
    ignore = "mounting a tmpfs needs root: run the tests as root"
)]
async fn on_a_full_disk_every_write_is_a_507_problem_nothing_is_written_and_freed_space_is_enough()
{
    // Arrange: every operation's cast, on an SQLite file on its own small
    // filesystem; the write-ahead log emptied, so every write must grow it.
    let disk = Tmpfs::mount("16m");
    let url = DatabaseUrl::Sqlite(SqliteTarget::File(disk.path().join("syndicate.db")));
    let mut settings = test_settings(url.clone());
    settings.webhooks.allow_hosts = vec![crate::cast::HOOK_HOST.to_owned()];
    // The synchronous ledger: a delivery's event goes to the full database.
    // (A journal answers from its own disk while it has room.)
    settings.journal = None;
    let app = start(settings, TestDatabase::unmanaged(url)).await;
    let cast = Cast::on(World::on(app).await).await;
    let app = &cast.world.app;
    let writes: Vec<matrix::Row> = matrix::table()
        .into_iter()
        .filter(|row| row.method != "GET" && row.path != "/v1/auth/token")
        // Writes an admin may make (a notice is acknowledged by its
        // licensee), and that write something (with nothing given up,
        // redelivering queues nothing).
        .filter(|row| row.expected(Who::Admin) < 300 && !row.path.ends_with("/redeliver"))
        .collect();
    let delivery = format!("/v1/content/{}", cast.id("article_a"));
    let reader = cast.token(Who::LicenseeA).unwrap();
    let desk = cast.token(Who::PublisherA).unwrap();
    // A story near the length limit: its transaction outgrows SQLite's page
    // cache and writes mid-way, where a full disk makes SQLite roll the
    // transaction back itself.
    let mut long_story = crate::cast::story("hg-long", "published");
    long_story["body_html"] = format!("<p>{}</p>", "The tide turned. ".repeat(5_500)).into();
    app.db
        .connect()
        .batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let before = app.snapshot();
    let filler = disk.fill();

    // Act and assert: while full.
    let mut misses = Vec::new();
    for row in &writes {
        let response = row.send(&cast, Who::Admin).await;
        let (status, retry_after) = (
            response.status().as_u16(),
            response.headers().get("retry-after").cloned(),
        );
        let problem: Value = response.json().await.unwrap_or_default();
        if status != 507
            || problem["type"] != "/problems/insufficient-storage"
            || retry_after.is_none()
        {
            misses.push(format!("{} {}: {status} {problem}", row.method, row.path));
        }
    }
    let response = app.post_as(desk, "/v1/articles", &long_story).await;
    let retry_after = response.headers().get("retry-after").cloned();
    let problem = expect_problem(response, 507).await;
    assert_eq!(
        problem["type"], "/problems/insufficient-storage",
        "a long story"
    );
    assert_eq!(retry_after.unwrap(), "30");
    assert!(
        misses.is_empty(),
        "writes on a full disk:\n{}",
        misses.join("\n")
    );
    let delivered = app.get_as(reader, &delivery).await;
    assert!(delivered.headers().contains_key("retry-after"));
    let problem = expect_problem(delivered, 503).await;
    assert_eq!(
        problem["type"], "/problems/unavailable",
        "a delivery the ledger cannot record"
    );
    let ready = app.get("/readyz").await;
    let problem = expect_problem(ready, 503).await;
    assert_eq!(
        problem["detail"],
        "not ready: writes fail: the database is out of space"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(
        app.snapshot(),
        before,
        "a write on a full disk left something behind"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let counted = metric(
        &metrics,
        r#"syndicate_errors_total{class="out_of_space",origin="request"}"#,
    );
    // Every write, the long story, the delivery and the readiness check.
    assert_eq!(counted, Some(writes.len() as f64 + 3.0), "{metrics}");

    // Act and assert: once space is freed, without a restart.
    std::fs::remove_file(filler).unwrap();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
    for row in &writes {
        let response = row.send(&cast, Who::Admin).await;
        let expected = row.expected(Who::Admin);
        let status = response.status().as_u16();
        if status != expected {
            misses.push(format!(
                "{} {}: {status}, expected {expected}: {}",
                row.method,
                row.path,
                response.text().await.unwrap()
            ));
        }
    }
    assert!(
        misses.is_empty(),
        "writes once space is back:\n{}",
        misses.join("\n")
    );
    assert_eq!(
        app.post_as(desk, "/v1/articles", &long_story)
            .await
            .status(),
        201
    );
    assert_eq!(app.get_as(reader, &delivery).await.status(), 200);
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let checks: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut app.db.connect())
        .unwrap();
    let checks: Vec<&str> = checks.iter().map(|c| c.integrity_check.as_str()).collect();
    assert_eq!(checks, ["ok"]);
}

#[actix_web::test]
async fn a_transaction_that_runs_out_of_space_fails_as_out_of_space_leaves_nothing_and_the_connection_works_on()
 {
    // Arrange: a database that may not grow by a page (SQLite's own limit
    // on this connection), so SQLite rolls the transaction back itself.
    let db = TestDatabase::create(Backend::Sqlite);
    let mut conn = db.connect();
    storage::migrate::run_pending_on(&mut conn).unwrap();
    #[derive(diesel::QueryableByName)]
    struct Pages {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        page_count: i64,
    }
    let pages: Pages = diesel::sql_query("PRAGMA page_count")
        .get_result(&mut conn)
        .unwrap();
    conn.batch_execute(&format!("PRAGMA max_page_count = {}", pages.page_count))
        .unwrap();
    let count = |conn: &mut storage::DbConnection| {
        #[derive(diesel::QueryableByName)]
        struct Rows {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            rows: i64,
        }
        diesel::sql_query("SELECT COUNT(*) AS rows FROM write_probe")
            .get_result::<Rows>(conn)
            .unwrap()
            .rows
    };

    // Act: a small write, then one that needs new pages, in one transaction.
    let failed = storage::in_transaction(&mut conn, |conn| {
        diesel::sql_query("INSERT INTO write_probe (id, filler) VALUES ('small', x'00')")
            .execute(conn)?;
        storage::health::probe_write(conn)
    });

    // Assert: the first error is the one reported, nothing of the work is
    // left, and the connection is fit to lend again.
    let error = failed.unwrap_err();
    assert!(
        matches!(error, StorageError::OutOfSpace(_)),
        "{error:?}: {}",
        syndicate::telemetry::CauseChain(&error)
    );
    let status =
        actix_web::ResponseError::status_code(&syndicate::http::problem::ApiError::from(error));
    assert_eq!(status.as_u16(), 507);
    assert_eq!(count(&mut conn), 0, "half a transaction was kept");
    assert!(!diesel::r2d2::R2D2Connection::is_broken(&mut conn));
    conn.batch_execute(&format!(
        "PRAGMA max_page_count = {}",
        pages.page_count + 100
    ))
    .unwrap();
    storage::health::probe_write(&mut conn).unwrap();
}

/// Sends a chunked POST of `pieces`, one every `every`, as a client that
/// then reads the answer; returns the status line, the body, and how long
/// the connection stayed open.
fn trickle(
    address: &str,
    token: &str,
    pieces: &[&[u8]],
    every: Duration,
) -> (String, String, Duration) {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let started = Instant::now();
    let head = format!(
        "POST /v1/publishers HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let mut writing = stream.write_all(head.as_bytes());
    for piece in pieces {
        if writing.is_err() {
            break;
        }
        std::thread::sleep(every);
        writing = stream
            .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .and_then(|()| stream.write_all(piece))
            .and_then(|()| stream.write_all(b"\r\n"));
    }
    if writing.is_ok() {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned(), started.elapsed())
}

#[actix_web::test]
async fn a_body_slower_than_the_stated_rate_is_cut_off_with_a_408_problem_and_the_connection_closed()
 {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.body_timeout = Duration::from_millis(500);
        settings.body_min_rate = 1000;
    })
    .await;
    let admin = app.admin_token().await;
    let before = app.snapshot();
    let address = app.address.clone();

    // 50 bytes a second, for up to ten seconds.
    let pieces: Vec<&[u8]> = std::iter::once(&b"{\"name\": \"Slow Herald\""[..])
        .chain(std::iter::repeat_n(&b"          "[..], 50))
        .collect();
    let (status, body, open) = tokio::task::spawn_blocking(move || {
        trickle(&address, &admin, &pieces, Duration::from_millis(200))
    })
    .await
    .unwrap();

    assert!(status.contains(" 408 "), "{status}: {body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["type"], "/problems/request-timeout");
    assert_eq!(
        problem["detail"],
        "the request body arrived slower than 1000 bytes a second after the first 500 ms; it was cut off"
    );
    assert!(
        open < Duration::from_secs(3),
        "the connection stayed open {open:?}"
    );
    assert_eq!(app.snapshot(), before);
}

#[actix_web::test]
async fn a_body_at_the_stated_rate_is_read_in_full_however_long_it_takes() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.body_timeout = Duration::from_millis(500);
        settings.body_min_rate = 1000;
    })
    .await;
    let admin = app.admin_token().await;
    let address = app.address.clone();

    // 2 000 bytes a second for about two seconds, four times the grace.
    static PADDING: [u8; 200] = [b' '; 200];
    let pieces: Vec<&[u8]> = std::iter::repeat_n(&PADDING[..], 20)
        .chain(std::iter::once(&b"{\"name\": \"Steady Herald\"}"[..]))
        .collect();
    let (status, body, _) = tokio::task::spawn_blocking(move || {
        trickle(&address, &admin, &pieces, Duration::from_millis(100))
    })
    .await
    .unwrap();

    assert!(status.contains(" 201 "), "{status}: {body}");
}

/// What a client saw of a chunked body it meant to send for 50 MB.
pub struct Flood {
    /// The response's status line.
    pub status: String,
    /// The response's body.
    pub body: String,
    /// Bytes of body the client got to write.
    pub sent: usize,
    /// Bytes the server's side acknowledged (TCP): what its kernel took,
    /// read by the server or not.
    pub acked: u64,
    /// How long the connection stayed open.
    pub open: Duration,
}

/// Sends `head`, then a chunked body that would go on for 50 MB, while
/// reading the answer.
pub fn flood(address: &str, head: String) -> Flood {
    let host = address.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let started = Instant::now();
    let sending = std::thread::spawn(move || {
        let chunk = [b' '; 64 * 1024];
        let mut sent = 0;
        let mut writing = writer.write_all(head.as_bytes());
        while writing.is_ok() && sent < 50_000_000 {
            writing = writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .and_then(|()| writer.write_all(&chunk))
                .and_then(|()| writer.write_all(b"\r\n"));
            if writing.is_ok() {
                sent += chunk.len();
            }
        }
        sent
    });
    let mut response = Vec::new();
    let _ = (&stream).read_to_end(&mut response);
    let open = started.elapsed();
    let acked = bytes_acked(&stream);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let sent = sending.join().unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    Flood {
        status: head.lines().next().unwrap_or_default().to_owned(),
        body: body.to_owned(),
        sent,
        acked,
        open,
    }
}

/// Bytes of what was sent on `stream` that the other side acknowledged.
fn bytes_acked(stream: &TcpStream) -> u64 {
    use std::os::fd::AsRawFd;
    // SAFETY: getsockopt writes at most `len` bytes into `info`, a plain
    // struct of integers, for a socket this function borrows.
    unsafe {
        let mut info: libc::tcp_info = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let got = libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        );
        assert_eq!(got, 0, "TCP_INFO");
        info.tcpi_bytes_acked
    }
}

#[actix_web::test]
async fn a_chunked_body_refused_early_is_not_read_on_and_its_connection_closes() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let admin = app.admin_token().await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let head = |token: Option<&str>| {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        format!(
            "POST /v1/publishers HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        )
    };
    // Refused before the body is read (no token), and once it passes the
    // limit (1 MiB).
    let cases = [
        ("no token", head(None), 401, "/problems/unauthorized"),
        (
            "over the limit",
            head(Some(&admin)),
            413,
            "/problems/payload-too-large",
        ),
    ];

    for (case, head, status, problem_type) in cases {
        let address = app.address.clone();
        let flood = tokio::task::spawn_blocking(move || flood(&address, head))
            .await
            .unwrap();

        assert!(
            flood.status.contains(&format!(" {status} ")),
            "{case}: {}",
            flood.status
        );
        let problem: Value = serde_json::from_str(&flood.body).unwrap();
        assert_eq!(problem["type"], problem_type, "{case}");
        assert!(
            flood.open < Duration::from_secs(5),
            "{case}: the connection stayed open {:?}",
            flood.open
        );
        assert!(
            flood.sent < 50_000_000,
            "{case}: the whole 50 MB body was taken"
        );
    }
}
