//! The committed `openapi/openapi.json` is what the code generates and
//! serves. Regenerate it with `cargo run -- openapi > openapi/openapi.json`.

use crate::harness::spawn_app;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn the_committed_spec_matches_the_code() {
    let generated = syndicate::openapi::spec_json();

    assert!(
        generated == COMMITTED,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

crate::backend_tests! {
    async fn the_served_spec_is_the_committed_spec(backend: Backend) {
        let app = spawn_app(backend).await;

        let response = app.get("/openapi.json").await;

        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let served: serde_json::Value = response.json().await.unwrap();
        let committed: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
        assert_eq!(served, committed);
        assert_eq!(served["openapi"], "3.1.0");
    }
}

#[test]
fn every_operation_documents_its_responses_and_has_an_id() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();

    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has no tag"
            );
        }
    }
}

#[test]
fn every_reference_in_the_spec_resolves() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let mut dangling = Vec::new();
    let mut stack = vec![&spec];
    while let Some(node) = stack.pop() {
        match node {
            serde_json::Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(|r| r.as_str()) {
                    let pointer = reference.trim_start_matches('#');
                    if spec.pointer(pointer).is_none() {
                        dangling.push(reference.to_owned());
                    }
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    dangling.sort();
    dangling.dedup();
    assert!(dangling.is_empty(), "dangling references: {dangling:?}");
}
