//! The real `syndicate` binary: defaults, refusals, and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_syndicate");

/// A `syndicate` command in `dir`, with none of the caller's settings.
fn syndicate(dir: &std::path::Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command
}

/// Reads the server's JSON logs until it says where it listens, then keeps
/// draining them (echoing errors), and returns the port.
fn wait_until_serving(child: &mut Child) -> u16 {
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the server exited before listening")
            .unwrap();
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if event["message"] == "serving" {
            break event["port"].as_u64().unwrap() as u16;
        }
    };
    std::thread::spawn(move || {
        lines
            .map_while(Result::ok)
            .filter(|l| l.contains("ERROR") || l.contains("panic"))
            .for_each(|l| eprintln!("server: {l}"))
    });
    port
}

/// Runs `syndicate admin ARGS` in `dir` and returns the JSON it prints.
fn admin_cli(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let output = syndicate(dir).arg("admin").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A running server, its port, and a thread echoing its logs.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `syndicate serve` with JSON logs and waits until it listens.
    fn start(dir: &std::path::Path, extra: &[&str]) -> Server {
        let mut child = syndicate(dir)
            .args(["--log-format", "json", "serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let port = wait_until_serving(&mut child);
        Server { child, port }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_creates_the_default_sqlite_file_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();

    let server = Server::start(dir.path(), &[]);
    let body = http1::blocking_get(server.port, "/readyz");

    assert!(dir.path().join("syndicate.db").exists());
    assert!(body.contains("\"sqlite\""), "{body}");
}

#[test]
fn an_unknown_database_scheme_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();

    for url in [
        "mysql://localhost/db",
        "syndicate.db",
        "host=localhost dbname=test",
    ] {
        let output = syndicate(dir.path())
            .args(["migrate", "--database-url", url])
            .output()
            .unwrap();

        assert!(!output.status.success(), "{url} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("unsupported database URL"), "{stderr}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a file was created"
    );
}

#[test]
fn the_openapi_command_prints_the_committed_spec() {
    let dir = tempfile::tempdir().unwrap();

    let output = syndicate(dir.path()).arg("openapi").output().unwrap();

    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(
        printed == include_str!("../../openapi/openapi.json"),
        "printed spec differs from the committed one"
    );
}

fn shutdown_under_load_drains_and_exits_zero(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--workers", "2"]);
    let port = server.port;
    let signalled = Arc::new(AtomicBool::new(false));

    // Eight keep-alive clients, like a load generator's connections, each
    // sending its next request as soon as the last one is answered.
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (signalled, count) = (signalled.clone(), count.clone());
            std::thread::spawn(move || http1::keep_alive_load(port, "/readyz", &signalled, &count))
        })
        .collect();
    wait_for_load(&count, 100);

    signalled.store(true, Ordering::SeqCst);
    server.signal(signal);
    let status = server.wait(Duration::from_secs(20));

    let mut total = 0;
    for client in clients {
        let (ok, failures) = client.join().unwrap();
        assert!(
            failures.is_empty(),
            "in-flight requests failed: {failures:?}"
        );
        total += ok;
    }
    assert!(total > 50, "too little load to mean anything: {total}");
    assert!(status.success(), "exit status {status}");
}

#[test]
fn sigterm_under_load_drains_in_flight_requests_and_exits_zero() {
    shutdown_under_load_drains_and_exits_zero("TERM");
}

#[test]
fn sigint_under_load_drains_in_flight_requests_and_exits_zero() {
    shutdown_under_load_drains_and_exits_zero("INT");
}

/// Minimal blocking HTTP/1.1, so that a refused connection, a closed
/// connection and a bad answer are told apart exactly.
mod http1 {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    /// One request on a new connection.
    pub fn blocking_request(url: &str) -> Result<(u16, String), String> {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').unwrap();
        let mut stream = TcpStream::connect(host).map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .map_err(|e| format!("write: {e}"))?;
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .map_err(|e| format!("read: {e}"))?;
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status line in {response:?}"))?;
        Ok((status, response))
    }

    /// POSTs a form on a new connection.
    pub fn post_form(port: u16, path: &str, form: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, response)
    }

    /// Any request on a new connection; returns the status and the body.
    pub fn call(
        port: u16,
        method: &str,
        path: &str,
        token: Option<&str>,
        extra: &[(&str, &str)],
        body: Option<&str>,
    ) -> Result<(u16, String), String> {
        let mut stream =
            TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        for (name, value) in extra {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body.as_bytes()))
            .map_err(|e| format!("write: {e}"))?;
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .map_err(|e| format!("read: {e}"))?;
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status in {response:?}"))?;
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    }

    pub fn blocking_get(port: u16, path: &str) -> String {
        let (status, body) = blocking_request(&format!("http://127.0.0.1:{port}{path}")).unwrap();
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Sends requests over keep-alive connections until the server stops.
    /// A request written on an open connection must get a whole 200; the
    /// server may close a connection only after a response that says
    /// `Connection: close`, and may refuse new connections once signalled.
    pub fn keep_alive_load(
        port: u16,
        path: &str,
        signalled: &AtomicBool,
        count: &std::sync::atomic::AtomicUsize,
    ) -> (usize, Vec<String>) {
        let (mut ok, mut failures) = (0, Vec::new());
        loop {
            let connect_after_signal = signalled.load(Ordering::SeqCst);
            let stream = match TcpStream::connect(("127.0.0.1", port)) {
                Ok(stream) => stream,
                Err(_) if connect_after_signal => return (ok, failures),
                Err(e) => {
                    failures.push(format!("connect before the signal: {e}"));
                    return (ok, failures);
                }
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            loop {
                let sent_after_signal = signalled.load(Ordering::SeqCst);
                let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                let outcome = writer
                    .write_all(request.as_bytes())
                    .map_err(|e| format!("write: {e}"))
                    .and_then(|()| read_response(&mut reader));
                match outcome {
                    // While draining, readiness fails by design.
                    Ok((200 | 503, close)) => {
                        ok += 1;
                        count.fetch_add(1, Ordering::SeqCst);
                        if close {
                            break;
                        }
                    }
                    Ok((status, _)) => {
                        failures.push(format!("status {status}"));
                        return (ok, failures);
                    }
                    // A connection accepted into the backlog just as the
                    // listener closed is reset before the server saw it.
                    Err(_) if connect_after_signal && sent_after_signal && ok > 0 => {
                        return (ok, failures);
                    }
                    Err(_) if connect_after_signal => return (ok, failures),
                    Err(e) => {
                        failures.push(e);
                        return (ok, failures);
                    }
                }
            }
        }
    }

    /// Reads one response; returns its status and whether it closes.
    fn read_response(reader: &mut BufReader<TcpStream>) -> Result<(u16, bool), String> {
        let mut status_line = String::new();
        if reader
            .read_line(&mut status_line)
            .map_err(|e| format!("read: {e}"))?
            == 0
        {
            return Err("connection closed with the request unanswered".to_owned());
        }
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let (mut length, mut close) = (0usize, false);
        loop {
            let mut line = String::new();
            reader
                .read_line(&mut line)
                .map_err(|e| format!("read: {e}"))?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "connection" => close = value.trim().eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("read body: {e}"))?;
        Ok((status, close))
    }
}

#[test]
fn the_admin_commands_bootstrap_an_empty_install_that_then_serves_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| admin_cli(dir.path(), args);
    let admin = run(&["create-client", "--name", "operator", "--role", "admin"]);
    let publisher = run(&["create-publisher", "--name", "Valley Courier"]);
    let licensee = run(&[
        "create-licensee",
        "--name",
        "Morning Brief",
        "--territories",
        "GB,IE",
    ]);
    let desk = run(&[
        "create-client",
        "--name",
        "desk",
        "--role",
        "licensee",
        "--organisation",
        licensee["id"].as_str().unwrap(),
    ]);

    assert_eq!(publisher["slug"], "valley-courier");
    assert_eq!(licensee["territories"], serde_json::json!(["GB", "IE"]));
    assert_eq!(desk["organisation_id"], licensee["id"]);
    for client in [&admin, &desk] {
        assert!(
            client["client_id"].is_string() && client["client_secret"].is_string(),
            "{client}"
        );
    }
    let refused = syndicate(dir.path())
        .args([
            "admin",
            "create-licensee",
            "--name",
            "Nowhere",
            "--territories",
            "UK",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("territories.0"));

    let server = Server::start(dir.path(), &[]);
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        desk["client_id"].as_str().unwrap(),
        desk["client_secret"].as_str().unwrap()
    );
    let (status, response) = http1::post_form(server.port, "/v1/auth/token", &form);
    assert_eq!(status, 200, "{response}");
    assert!(response.contains("\"token_type\":\"Bearer\""));
    assert!(
        dir.path().join("syndicate.keys").is_dir(),
        "the signing key is not kept beside the database"
    );
}

/// A served install with a licence and articles, for load tests.
struct Install {
    dir: tempfile::TempDir,
    reader: (String, String),
    articles: Vec<String>,
}

fn install() -> Install {
    let dir = tempfile::tempdir().unwrap();
    let admin_cli = |args: &[&str]| admin_cli(dir.path(), args);
    let admin = admin_cli(&["create-client", "--name", "ops", "--role", "admin"]);
    let publisher = admin_cli(&["create-publisher", "--name", "Harbour Gazette"]);
    let licensee = admin_cli(&[
        "create-licensee",
        "--name",
        "Morning Brief",
        "--territories",
        "GB",
    ]);
    let desk = admin_cli(&[
        "create-client",
        "--name",
        "desk",
        "--role",
        "publisher",
        "--organisation",
        publisher["id"].as_str().unwrap(),
    ]);
    let reader = admin_cli(&[
        "create-client",
        "--name",
        "ingest",
        "--role",
        "licensee",
        "--organisation",
        licensee["id"].as_str().unwrap(),
    ]);
    let server = Server::start(dir.path(), &["--workers", "2"]);
    let admin_token = token(server.port, &admin);
    let desk_token = token(server.port, &desk);
    let licence = serde_json::json!({
        "licensee_id": licensee["id"], "publisher_id": publisher["id"], "tier": "full",
        "include_media": false, "valid_from": "2026-01-01T00:00:00Z",
    });
    let (status, body) = http1::call(
        server.port,
        "POST",
        "/v1/licences",
        Some(&admin_token),
        &[],
        Some(&licence.to_string()),
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let articles = (0..20)
        .map(|i| {
            let article = serde_json::json!({
                "external_ref": format!("load-{i}"), "headline": format!("Tide report {i}"),
                "body_html": "<p>The tide turned at noon.</p>", "section": "news", "language": "en",
                "bylines": [], "status": "published",
            });
            let (status, body) = http1::call(
                server.port,
                "POST",
                "/v1/articles",
                Some(&desk_token),
                &[],
                Some(&article.to_string()),
            )
            .unwrap();
            assert_eq!(status, 201, "{body}");
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    drop(server);
    let reader = (
        reader["client_id"].as_str().unwrap().to_owned(),
        reader["client_secret"].as_str().unwrap().to_owned(),
    );
    Install {
        dir,
        reader,
        articles,
    }
}

fn token(port: u16, client: &serde_json::Value) -> String {
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap()
    );
    let (status, response) = http1::post_form(port, "/v1/auth/token", &form);
    assert_eq!(status, 200, "{response}");
    let body = response.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str::<serde_json::Value>(body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Fetches articles from several threads until the server goes away;
/// returns the request ids that got a 200.
fn metered_load(
    port: u16,
    token: &str,
    articles: &[String],
    stop: &Arc<AtomicBool>,
    count: &Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<std::thread::JoinHandle<Vec<String>>> {
    (0..8)
        .map(|t| {
            let (token, articles, stop, count) = (
                token.to_owned(),
                articles.to_vec(),
                stop.clone(),
                count.clone(),
            );
            std::thread::spawn(move || {
                let mut delivered = Vec::new();
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) && n % 1000 == 999 {
                        break;
                    }
                    let id = format!("load-{t}-{n}");
                    let path = format!("/v1/content/{}", articles[n % articles.len()]);
                    match http1::call(
                        port,
                        "GET",
                        &path,
                        Some(&token),
                        &[("X-Request-Id", &id)],
                        None,
                    ) {
                        Ok((200, _)) => {
                            delivered.push(id);
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok((status, body)) => panic!("unexpected {status}: {body}"),
                        Err(_) => break,
                    }
                }
                delivered
            })
        })
        .collect()
}

/// Waits until the load has had `deliveries` answered (at most 30 s), so a
/// slow or busy machine still tests under real load.
fn wait_for_load(count: &std::sync::atomic::AtomicUsize, deliveries: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while count.load(Ordering::SeqCst) < deliveries && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Request ids in the ledger of the install's SQLite file.
fn ledger_request_ids(dir: &std::path::Path) -> Vec<String> {
    use diesel::RunQueryDsl;
    use r2d2::ManageConnection;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        request_id: String,
    }
    let url = syndicate::storage::DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.join("syndicate.db").display()
    ))
    .unwrap();
    let mut conn = syndicate::storage::ConnectionManager::new(url)
        .connect()
        .unwrap();
    diesel::sql_query("SELECT request_id FROM usage_events")
        .load::<Row>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| r.request_id)
        .collect()
}

/// Under load, `kill -9`; then every delivered response has its usage
/// event in the ledger: at once in sync mode, once the restarted node has
/// shipped its journal in journal mode.
fn after_sigkill_under_load(ledger: &str) {
    let install = install();
    let mut server = Server::start(install.dir.path(), &["--workers", "2", "--ledger", ledger]);
    let reader = token(
        server.port,
        &serde_json::json!({"client_id": install.reader.0, "client_secret": install.reader.1}),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let load = metered_load(server.port, &reader, &install.articles, &stop, &count);
    wait_for_load(&count, 100);

    server.signal("KILL");
    server.wait(Duration::from_secs(10));
    let delivered: Vec<String> = load.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let restarted = Server::start(install.dir.path(), &["--ledger", ledger]);

    let ledger = ledger_request_ids(install.dir.path());
    let missing: Vec<&String> = delivered.iter().filter(|id| !ledger.contains(id)).collect();
    assert!(
        delivered.len() > 50,
        "too little load to mean anything: {}",
        delivered.len()
    );
    assert!(
        missing.is_empty(),
        "{} delivered responses have no usage event: {missing:?}",
        missing.len()
    );
    assert!(
        ledger.len() <= delivered.len() + 8,
        "more events ({}) than deliveries ({}) plus in-flight requests",
        ledger.len(),
        delivered.len()
    );
    let mut unique = ledger.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ledger.len(), "an event shipped twice");
    assert!(http1::blocking_get(restarted.port, "/readyz").contains("ready"));
}

#[test]
fn after_sigkill_under_load_every_delivered_response_has_its_usage_event() {
    after_sigkill_under_load("sync");
}

#[test]
fn after_sigkill_under_load_the_restarted_node_ships_every_journaled_delivery() {
    after_sigkill_under_load("journal");
}

/// Under load, SIGTERM: the node drains, and the ledger holds exactly the
/// deliveries answered (in journal mode: shipped before it exits).
fn sigterm_under_metered_load(ledger: &str) {
    let install = install();
    let mut server = Server::start(install.dir.path(), &["--workers", "2", "--ledger", ledger]);
    let reader = token(
        server.port,
        &serde_json::json!({"client_id": install.reader.0, "client_secret": install.reader.1}),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let load = metered_load(server.port, &reader, &install.articles, &stop, &count);
    wait_for_load(&count, 100);

    server.signal("TERM");
    let status = server.wait(Duration::from_secs(20));

    let delivered: Vec<String> = load.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let mut ledger = ledger_request_ids(install.dir.path());
    let mut expected = delivered.clone();
    ledger.sort();
    expected.sort();
    assert!(status.success(), "exit status {status}");
    assert!(
        delivered.len() > 50,
        "too little load to mean anything: {}",
        delivered.len()
    );
    assert_eq!(
        ledger, expected,
        "the ledger and the delivered responses differ"
    );
}

#[test]
fn sigterm_under_metered_load_drains_and_records_every_delivery_exactly() {
    sigterm_under_metered_load("sync");
}

#[test]
fn sigterm_under_metered_load_in_journal_mode_ships_every_delivery_before_exiting() {
    sigterm_under_metered_load("journal");
}

/// Starts `serve --demo` and returns the server and what it printed.
fn demo_server(dir: &std::path::Path) -> (Server, String) {
    let mut child = syndicate(dir)
        .args([
            "--log-format",
            "json",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--demo",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let port = wait_until_serving(&mut child);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0
            || line.contains("license.xml")
            || line.contains("already exists")
        {
            printed.push_str(&line);
            break;
        }
        printed.push_str(&line);
    }
    (Server { child, port }, printed)
}

#[test]
fn demo_mode_seeds_once_and_its_printed_commands_work() {
    let dir = tempfile::tempdir().unwrap();

    let (server, printed) = demo_server(dir.path());

    let field = |role: &str, name: &str| -> String {
        let line = printed
            .lines()
            .find(|l| l.trim_start().starts_with(role))
            .unwrap();
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let licensee = serde_json::json!({"client_id": field("licensee", "client_id"), "client_secret": field("licensee", "client_secret")});
    let token = token(server.port, &licensee);
    let article = printed
        .split("/v1/content/")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (status, body) = http1::call(
        server.port,
        "GET",
        &format!("/v1/content/{article}"),
        Some(&token),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let delivered: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        delivered["agency_credits"][0]["credit_line"],
        "Northwire contributed to this report"
    );
    let (_, listed) = http1::call(
        server.port,
        "GET",
        "/v1/content?limit=100",
        Some(&token),
        &[],
        None,
    )
    .unwrap();
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        10,
        "twelve stories less one embargoed and one killed"
    );
    let (status, svg) = http1::call(
        server.port,
        "GET",
        "/v1/usage?format=svg",
        Some(&token),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(svg.contains("<svg") && svg.contains("billable units"));

    // The AI licensee: ai-input only, with attribution, and a photo that
    // forbids generative training goes out for input but is declared.
    let ai = serde_json::json!({"client_id": field("ai-client", "client_id"), "client_secret": field("ai-client", "client_secret")});
    let ai_token = self::token(server.port, &ai);
    let ai_article = printed
        .split("/v1/content/")
        .find_map(|rest| {
            rest.split_once("?purpose=ai-input")
                .map(|(id, _)| id.to_owned())
        })
        .unwrap();
    let publisher = printed
        .split("/v1/publishers/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let fetch = |purpose: &str| {
        http1::call(
            server.port,
            "GET",
            &format!("/v1/content/{ai_article}?purpose={purpose}"),
            Some(&ai_token),
            &[],
            None,
        )
        .unwrap()
    };
    let (status, body) = fetch("ai-input");
    assert_eq!(status, 200, "{body}");
    let grounded: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        grounded["attribution"]["text"]
            .as_str()
            .unwrap()
            .contains("The Harbour Gazette"),
        "{grounded}"
    );
    assert_eq!(
        grounded["media"][0]["data_mining"],
        "prohibited_gen_ai_ml_training"
    );
    let (status, _) = fetch("display");
    assert_eq!(status, 403, "the client may fetch for ai-input only");
    let (status, rsl) = http1::call(
        server.port,
        "GET",
        &format!("/v1/publishers/{publisher}/license.xml"),
        Some(&ai_token),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(status, 200, "{rsl}");
    let rsl = roxmltree::Document::parse(&rsl).unwrap();
    let said = |url_end: &str, element: &str| -> Option<String> {
        rsl.descendants()
            .find(|n| n.has_tag_name("content") && n.attribute("url").unwrap().ends_with(url_end))?
            .descendants()
            .find(|n| n.has_tag_name(element))
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    let scope = format!("/v1/content?publisher_id={publisher}");
    assert_eq!(said(&scope, "permits").as_deref(), Some("ai-input"));
    assert_eq!(said(&scope, "amount").as_deref(), Some("0.40"));
    assert_eq!(
        said("/demo/seagrass-1200.jpg", "prohibits").as_deref(),
        Some("ai-train")
    );
    drop(server);

    let (_again, printed_again) = demo_server(dir.path());

    assert!(printed_again.contains("already exists"), "{printed_again}");
    assert!(!printed_again.contains("client_secret="));
}

#[test]
fn seed_writes_articles_licensees_and_a_past_ledger_that_reports_agree_with() {
    let dir = tempfile::tempdir().unwrap();
    let output = syndicate(dir.path())
        .args([
            "seed",
            "--articles",
            "12",
            "--publishers",
            "3",
            "--licensees",
            "2",
        ])
        .args(["--licences-each", "2", "--events", "700"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seeded: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    assert_eq!(seeded["articles"], 12);
    assert_eq!(seeded["events"], 700);
    let licensees = seeded["licensees"].as_array().unwrap();
    assert_eq!(licensees.len(), 2);
    assert!(
        licensees
            .iter()
            .all(|l| l["articles"].as_array().unwrap().len() == 8)
    );
    let url = syndicate::storage::DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("syndicate.db").display()
    ))
    .unwrap();
    let mut conn = crate::harness::TestDatabase::unmanaged(url).connect();
    let report = syndicate::storage::reports::report(
        &mut conn,
        &syndicate::storage::reports::ReportScope::default(),
        syndicate::storage::reports::GroupBy::Licensee,
    )
    .unwrap();
    assert_eq!(report.iter().map(|r| r.deliveries).sum::<i64>(), 700);
    // 16 (licence, article) pairs: each billed once in its month, perhaps
    // twice where the 30 days span two months.
    let billed: i64 = report.iter().map(|r| r.billable_units).sum();
    assert!((16..=32).contains(&billed), "{billed}");
}

/// The binary under faults: a flood of refused body, a database that does
/// not answer, and what the log says of it.
mod faults;

/// A webhook receiver on a thread: records each request's `webhook-id` and
/// whether it was accepted; answers 503 while `down`, else 204.
struct HookReceiver {
    port: u16,
    seen: Arc<std::sync::Mutex<Vec<(String, bool)>>>,
    down: Arc<AtomicBool>,
}

impl HookReceiver {
    fn start() -> HookReceiver {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let down = Arc::new(AtomicBool::new(true));
        let (s, d) = (seen.clone(), down.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                // The head, then as much body as it announces.
                let (head, length) = loop {
                    let Ok(n) = stream.read(&mut buffer) else {
                        break (String::new(), 0);
                    };
                    if n == 0 {
                        break (String::new(), 0);
                    }
                    request.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    if let Some((head, _)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0usize);
                        break (head.to_owned(), length);
                    }
                };
                while request.len() < head.len() + 4 + length {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let id = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("webhook-id:")
                            .map(|v| v.trim().to_owned())
                    })
                    .unwrap_or_default();
                let accepted = !d.load(Ordering::SeqCst);
                s.lock().unwrap().push((id, accepted));
                let status = if accepted {
                    "204 No Content"
                } else {
                    "503 Service Unavailable"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        HookReceiver { port, seen, down }
    }

    fn seen(&self) -> Vec<(String, bool)> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn a_webhook_in_retry_survives_kill_9_and_arrives_once_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| admin_cli(dir.path(), args);
    let admin = cli(&["create-client", "--name", "ops", "--role", "admin"]);
    let publisher = cli(&["create-publisher", "--name", "Harbour Gazette"]);
    let licensee = cli(&[
        "create-licensee",
        "--name",
        "Morning Brief",
        "--territories",
        "GB",
    ]);
    let organisation = |party: &serde_json::Value| party["id"].as_str().unwrap().to_owned();
    let desk = cli(&[
        "create-client",
        "--name",
        "desk",
        "--role",
        "publisher",
        "--organisation",
        &organisation(&publisher),
    ]);
    let reader = cli(&[
        "create-client",
        "--name",
        "ingest",
        "--role",
        "licensee",
        "--organisation",
        &organisation(&licensee),
    ]);
    let receiver = HookReceiver::start();
    let allow = format!("127.0.0.1:{}", receiver.port);
    let mut server = Server::start(dir.path(), &["--webhook-allow-hosts", &allow]);
    let call = |server: &Server, token: &str, method: &str, path: &str, body: serde_json::Value| {
        let body = body.to_string();
        let (status, text) = http1::call(
            server.port,
            method,
            path,
            Some(token),
            &[],
            (method != "GET").then_some(body.as_str()),
        )
        .unwrap();
        assert!(status < 300, "{method} {path}: {status} {text}");
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    let licence = serde_json::json!({"licensee_id": organisation(&licensee), "publisher_id": organisation(&publisher),
        "tier": "full", "include_media": false, "valid_from": "2026-01-01T00:00:00Z"});
    call(
        &server,
        &token(server.port, &admin),
        "POST",
        "/v1/licences",
        licence,
    );
    let reader_token = token(server.port, &reader);
    let hook = call(
        &server,
        &reader_token,
        "POST",
        "/v1/webhooks",
        serde_json::json!({"url": format!("http://{allow}/hooks"), "event_types": ["article.published"]}),
    );
    let attempts = format!("/v1/webhooks/{}/attempts", hook["id"].as_str().unwrap());
    call(
        &server,
        &token(server.port, &desk),
        "POST",
        "/v1/articles",
        serde_json::json!({
        "external_ref": "hg-kill-9", "headline": "Ferry crews vote on new rota", "body_html": "<p>The vote closes on Friday.</p>",
        "section": "news", "language": "en", "bylines": [], "status": "published"}),
    );

    // The first attempt fails (503) and is recorded; the next is seconds away.
    let deadline = Instant::now() + Duration::from_secs(20);
    while call(
        &server,
        &reader_token,
        "GET",
        &attempts,
        serde_json::json!({}),
    )["items"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "no attempt was recorded");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.signal("KILL");
    server.wait(Duration::from_secs(10));
    receiver.down.store(false, Ordering::SeqCst);
    let refused = receiver.seen();
    let server = Server::start(dir.path(), &["--webhook-allow-hosts", &allow]);

    let deadline = Instant::now() + Duration::from_secs(30);
    while !receiver.seen().iter().any(|(_, accepted)| *accepted) {
        assert!(
            Instant::now() < deadline,
            "the webhook never arrived after the restart: {:?}",
            receiver.seen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    let accepted: Vec<String> = receiver
        .seen()
        .into_iter()
        .filter(|(_, a)| *a)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(accepted.len(), 1, "{:?}", receiver.seen());
    assert_eq!(
        accepted[0], refused[0].0,
        "the retry carries the first attempt's webhook-id"
    );
    drop(server);
}
