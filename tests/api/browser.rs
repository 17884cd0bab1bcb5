//! The docs page in a real browser: `tests/browser/docs.mjs` drives
//! headless Chromium against `serve --demo` with the network cut off. It runs
//! when Chromium and the script's npm packages are installed (`.ci/run`
//! installs both) and is reported as ignored, with the reason, otherwise.

#[test]
#[cfg_attr(
    not(browser_tests),
    ignore = "Chromium or tests/browser/node_modules missing: apt-get install chromium && npm ci --prefix tests/browser"
)]
fn the_docs_page_authorises_with_client_credentials_and_tries_out_metered_calls() {
    let root = env!("CARGO_MANIFEST_DIR");
    let shots = std::path::Path::new(root).join("target/screenshots");
    let status = std::process::Command::new("node")
        .arg(format!("{root}/tests/browser/docs.mjs"))
        .arg(env!("CARGO_BIN_EXE_syndicate"))
        .arg(&shots)
        .status()
        .unwrap();

    assert!(
        status.success(),
        "the browser test failed; screenshots in {}",
        shots.display()
    );
}
