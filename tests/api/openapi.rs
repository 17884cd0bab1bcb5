//! The committed `openapi/openapi.json` is what the code generates and
//! serves. Regenerate it with `cargo run -- openapi > openapi/openapi.json`.

use serde_json::Value;

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

/// The committed spec, parsed.
fn spec() -> Value {
    serde_json::from_str(COMMITTED).unwrap()
}

/// Every operation in the spec as (method, path, operation).
fn operations(spec: &Value) -> Vec<(&str, &str, &Value)> {
    spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .iter()
                .map(move |(method, operation)| (method.as_str(), path.as_str(), operation))
        })
        .collect()
}

/// The node a `$ref` points at (followed until it is no reference), or
/// the node itself.
fn resolve<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => resolve(
            spec,
            spec.pointer(reference.trim_start_matches('#')).unwrap(),
        ),
        None => node,
    }
}

/// The token endpoint answers its own errors as RFC 6749 §5.2 requires:
/// `application/json` with an OAuth error code, not a problem document.
const OAUTH_ERRORS: [(&str, &str); 2] = [("create_token", "400"), ("create_token", "401")];

#[test]
fn operation_ids_are_unique_and_follow_the_handler_naming_rule() {
    let spec = spec();
    // Handlers are `<verb>_<resource>`, and the verb says what the method
    // does: reads get or list, PUT replaces, PATCH updates, DELETE deletes
    // or revokes, POST creates or acts (publish, kill, rotate …).
    let verbs = |method: &str| -> &[&str] {
        match method {
            "get" => &["get", "list"],
            "put" => &["replace"],
            "patch" => &["update"],
            "delete" => &["delete", "revoke"],
            _ => &[],
        }
    };
    let reserved = ["get", "list", "replace", "update", "delete", "revoke"];
    let mut seen = std::collections::BTreeMap::new();
    let mut wrong = Vec::new();

    for (method, path, operation) in operations(&spec) {
        let id = operation["operationId"].as_str().unwrap_or_default();
        let words: Vec<&str> = id.split('_').collect();
        let verb = words[0];
        let snake = words.len() >= 2
            && words
                .iter()
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
        let fits = match method {
            "post" => !reserved.contains(&verb),
            _ => verbs(method).contains(&verb),
        };
        let lists_one = verb == "list" && path.ends_with('}');
        if !snake || !fits || lists_one {
            wrong.push(format!("{method} {path}: {id:?}"));
        }
        if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
            wrong.push(format!("{method} {path}: {id:?} is also {other}"));
        }
    }

    assert!(
        wrong.is_empty(),
        "operationIds off the naming rule:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_operation_has_a_summary_responses_and_a_declared_tag() {
    let spec = spec();
    let declared: Vec<&str> = spec["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();

    for (method, path, operation) in operations(&spec) {
        assert!(
            operation["summary"]
                .as_str()
                .is_some_and(|s| !s.trim().is_empty()),
            "{method} {path} has no summary (the handler's doc comment)"
        );
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| r.keys().any(|c| c.starts_with('2'))),
            "{method} {path} documents no success"
        );
        let tags = operation["tags"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert!(!tags.is_empty(), "{method} {path} has no tag");
        for tag in tags {
            assert!(
                declared.contains(&tag.as_str().unwrap()),
                "{method} {path}: tag {tag} is not declared"
            );
        }
    }
}

#[test]
fn every_secured_operation_documents_401_with_its_challenge_and_403() {
    let spec = spec();
    let mut secured = 0;

    for (method, path, operation) in operations(&spec) {
        if operation["security"].as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        secured += 1;
        let responses = &operation["responses"];
        assert!(
            responses.get("403").is_some(),
            "{method} {path} is secured but documents no 403"
        );
        let unauthorized = resolve(
            &spec,
            responses
                .get("401")
                .unwrap_or_else(|| panic!("{method} {path} is secured but documents no 401")),
        );
        assert!(
            unauthorized["headers"].get("WWW-Authenticate").is_some(),
            "{method} {path}: the 401 documents no WWW-Authenticate"
        );
    }

    assert!(
        secured >= 30,
        "only {secured} secured operations: is security still applied?"
    );
}

#[test]
fn every_error_response_is_a_problem_document() {
    let spec = spec();
    let problem = &spec["components"]["schemas"]["Problem"];
    let required: Vec<&str> = problem["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let mut wrong = Vec::new();

    for (method, path, operation) in operations(&spec) {
        let id = operation["operationId"].as_str().unwrap();
        for (status, response) in operation["responses"].as_object().unwrap() {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let response = resolve(&spec, response);
            let media: Vec<&String> = response["content"]
                .as_object()
                .map(|c| c.keys().collect())
                .unwrap_or_default();
            if OAUTH_ERRORS.contains(&(id, status.as_str())) {
                if media != ["application/json"] {
                    wrong.push(format!(
                        "{method} {path} {status}: an OAuth error as {media:?}"
                    ));
                }
                continue;
            }
            let schema = &response["content"]["application/problem+json"]["schema"]["$ref"];
            if media != ["application/problem+json"] || schema != "#/components/schemas/Problem" {
                wrong.push(format!(
                    "{method} {path} {status}: {media:?} with schema {schema}"
                ));
            }
            if (status == "429" || status == "503")
                && response["headers"].get("Retry-After").is_none()
            {
                wrong.push(format!("{method} {path} {status}: no Retry-After"));
            }
        }
    }

    assert!(
        wrong.is_empty(),
        "error responses that are not problems:\n{}",
        wrong.join("\n")
    );
    assert_eq!(
        required,
        [
            "type",
            "title",
            "status",
            "detail",
            "instance",
            "request_id"
        ]
    );
}

#[test]
fn every_operation_that_writes_documents_507() {
    let spec = spec();

    for (method, path, operation) in operations(&spec) {
        // The token endpoint only reads.
        if method == "get" || path == "/v1/auth/token" {
            continue;
        }
        assert!(
            operation["responses"].get("507").is_some(),
            "{method} {path} writes but documents no 507"
        );
    }
}

#[test]
fn every_operation_that_takes_a_body_documents_408_413_and_415() {
    let spec = spec();

    for (method, path, operation) in operations(&spec) {
        if operation.get("requestBody").is_none() {
            continue;
        }
        for status in ["408", "413", "415"] {
            assert!(
                operation["responses"].get(status).is_some(),
                "{method} {path} takes a body but documents no {status}"
            );
        }
    }
}

#[test]
fn every_parameter_is_described_and_path_parameters_match_the_route() {
    let spec = spec();

    for (method, path, operation) in operations(&spec) {
        let parameters: Vec<&Value> = operation["parameters"]
            .as_array()
            .map(|p| p.iter().map(|p| resolve(&spec, p)).collect())
            .unwrap_or_default();
        for parameter in &parameters {
            assert!(
                parameter["description"]
                    .as_str()
                    .is_some_and(|d| !d.trim().is_empty()),
                "{method} {path}: parameter {} has no description",
                parameter["name"]
            );
        }
        let mut in_route: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let mut declared: Vec<&str> = parameters
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        in_route.sort_unstable();
        declared.sort_unstable();
        assert_eq!(declared, in_route, "{method} {path}: path parameters");
        assert!(
            parameters
                .iter()
                .filter(|p| p["in"] == "path")
                .all(|p| p["required"] == true),
            "{method} {path}: a path parameter is not required"
        );
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
