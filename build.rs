//! Rebuilds when migrations change (they are embedded), turns the
//! PostgreSQL half of the integration tests on when `TEST_DATABASE_URL`
//! names a PostgreSQL database at build time, the browser test on when
//! Chromium and the test's npm packages are installed, the webhook
//! signature test on when Python's `standardwebhooks` is, and the full-disk
//! test (which mounts a small tmpfs) on when the build runs as root.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo:rustc-check-cfg=cfg(postgres_tests)");
    let configured = std::env::var("TEST_DATABASE_URL")
        .map(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
        .unwrap_or(false);
    if configured {
        println!("cargo:rustc-cfg=postgres_tests");
    }
    println!("cargo:rustc-check-cfg=cfg(browser_tests)");
    println!("cargo:rerun-if-changed=tests/browser/node_modules/playwright-core/package.json");
    println!("cargo:rerun-if-changed=/usr/bin/chromium");
    let browser = std::path::Path::new("/usr/bin/chromium").exists()
        && std::path::Path::new("tests/browser/node_modules/playwright-core/package.json").exists();
    if browser {
        println!("cargo:rustc-cfg=browser_tests");
    }
    // The webhook signature test verifies with Python's `standardwebhooks`
    // (an implementation independent of the one that signs): on when the
    // interpreter `WEBHOOK_VERIFY_PYTHON` names (else `python3`) has it.
    println!("cargo:rustc-check-cfg=cfg(webhook_python_tests)");
    println!("cargo:rerun-if-env-changed=WEBHOOK_VERIFY_PYTHON");
    let python = std::env::var("WEBHOOK_VERIFY_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let verifies = std::process::Command::new(&python)
        .args(["-c", "import standardwebhooks"])
        .output()
        .is_ok_and(|out| out.status.success());
    if verifies {
        println!("cargo:rustc-cfg=webhook_python_tests");
        println!("cargo:rustc-env=WEBHOOK_VERIFY_PYTHON={python}");
    }
    println!("cargo:rustc-check-cfg=cfg(tmpfs_tests)");
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    });
    if root {
        println!("cargo:rustc-cfg=tmpfs_tests");
    }
}
