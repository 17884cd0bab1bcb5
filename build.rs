//! Rebuilds when migrations change (they are embedded) and turns the
//! PostgreSQL half of the integration tests on when `TEST_DATABASE_URL`
//! names a PostgreSQL database at build time.

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
}
