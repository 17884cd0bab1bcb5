//! The real binary under faults: a chunked body that would go on for
//! 50 MB, and a database that does not answer, with what the log says of
//! each failure and how often.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Server, admin_cli, http1, syndicate, token};

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap()
}

/// CPU time a process has used (user and system).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf only reads a system constant.
    let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap();
    Duration::from_millis(ticks * 1000 / per_second)
}

#[test]
fn a_chunked_50_mb_body_gets_its_413_and_the_connection_closes_with_little_taken_past_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin_cli(
        dir.path(),
        &["create-client", "--name", "ops", "--role", "admin"],
    );
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let token = token(server.port, &admin);
    let pid = server.child.id();
    let head = format!(
        "POST /v1/publishers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let (rss_before, cpu_before) = (rss_kib(pid), cpu_time(pid));

    let flood = crate::faults::flood(&format!("http://127.0.0.1:{}", server.port), head);

    let (rss_after, cpu_after) = (rss_kib(pid), cpu_time(pid));
    eprintln!(
        "50 MB chunked body: wrote {} bytes, server took {} bytes, connection open {:?}, RSS {} -> {} KiB, CPU {:?}",
        flood.sent,
        flood.acked,
        flood.open,
        rss_before,
        rss_after,
        cpu_after.saturating_sub(cpu_before)
    );
    assert!(
        flood.status.contains(" 413 "),
        "{}: {}",
        flood.status,
        flood.body
    );
    let problem: serde_json::Value = serde_json::from_str(&flood.body).unwrap();
    assert_eq!(problem["type"], "/problems/payload-too-large");
    assert!(
        flood.open < Duration::from_secs(5),
        "the connection stayed open {:?}",
        flood.open
    );
    // The limit is 1 MiB; the rest is what the kernels buffer on loopback
    // before the close, never the 50 MB the client meant to send.
    assert!(
        flood.acked < 16 << 20,
        "the server took {} bytes",
        flood.acked
    );
    assert!(
        rss_after < rss_before + (32 << 10),
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
    assert!(cpu_after.saturating_sub(cpu_before) < Duration::from_millis(500));
    let (status, _) = http1::call(server.port, "GET", "/readyz", None, &[], None).unwrap();
    assert_eq!(status, 200, "the server still serves");
}

/// Starts `syndicate serve` with JSON logs and keeps every line it logs.
fn start_keeping_logs(dir: &std::path::Path, extra: &[&str]) -> (Server, Arc<Mutex<Vec<String>>>) {
    let mut child = syndicate(dir)
        .args(["--log-format", "json", "serve", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let kept = Arc::new(Mutex::new(Vec::new()));
    let port = loop {
        let line = lines
            .next()
            .expect("the server exited before listening")
            .unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        kept.lock().unwrap().push(line);
        if event["message"] == "serving" {
            break event["port"].as_u64().unwrap() as u16;
        }
    };
    let keeping = kept.clone();
    std::thread::spawn(move || {
        lines
            .map_while(Result::ok)
            .for_each(|l| keeping.lock().unwrap().push(l))
    });
    (Server { child, port }, kept)
}

#[test]
fn identical_failures_are_logged_once_per_interval_with_an_exact_count_and_counted_by_class() {
    // A node whose database (nothing listens on port 1) never answers, so
    // every token request fails the same way after the pool timeout.
    let dir = tempfile::tempdir().unwrap();
    let (server, logs) = start_keeping_logs(
        dir.path(),
        &[
            "--database-url",
            "postgres://syndicate@127.0.0.1:1/nowhere",
            "--no-migrate",
            "--pool-timeout",
            "1",
            "--log-repeat-interval-ms",
            "3000",
            "--workers",
            "1",
        ],
    );
    let port = server.port;
    const THREADS: usize = 16;
    const EACH: usize = 3;
    let started = Instant::now();

    let statuses: Vec<u16> = (0..THREADS)
        .map(|_| {
            std::thread::spawn(move || {
                (0..EACH)
                    .map(|_| {
                        let form = format!(
                            "grant_type=client_credentials&client_id={}&client_secret=x",
                            uuid::Uuid::now_v7()
                        );
                        http1::post_form(port, "/v1/auth/token", &form).0
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    // Every interval that has begun has ended, and its count is written.
    std::thread::sleep(Duration::from_millis(4500));
    let metrics = http1::blocking_get(port, "/metrics");
    drop(server);
    std::thread::sleep(Duration::from_millis(200));

    let failures = THREADS * EACH;
    assert_eq!(statuses, vec![503; failures]);
    let counted = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(r#"syndicate_errors_total{class="unavailable",origin="request"} "#)
        })
        .map(|n| n.trim().parse::<usize>().unwrap());
    assert_eq!(counted, Some(failures), "{metrics}");
    let logs = logs.lock().unwrap();
    let failed: Vec<serde_json::Value> = logs
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["error.origin"] == "request" && event["level"] == "ERROR")
        .collect();
    let in_full = failed
        .iter()
        .filter(|e| e["message"] == "request failed")
        .count();
    let repeated: u64 = failed
        .iter()
        .filter(|e| e["message"] == "request failed again")
        .map(|e| e["repeated"].as_u64().unwrap())
        .sum();
    eprintln!(
        "{failures} identical failures in {:?}: {} error lines ({in_full} in full, the rest counts summing to {repeated})",
        started.elapsed(),
        failed.len()
    );
    assert_eq!(in_full as u64 + repeated, failures as u64, "{failed:#?}");
    assert!(
        failed.len() * 4 <= failures,
        "{} lines for {failures} failures: {failed:#?}",
        failed.len()
    );
    assert!(
        failed.iter().all(|e| e["error.class"] == "unavailable"),
        "{failed:#?}"
    );
}
