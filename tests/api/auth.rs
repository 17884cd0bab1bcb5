//! The token endpoint, token verification, revocation and suspension.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use syndicate::domain::Role;

use crate::harness::{TestApp, expect_problem, spawn_app};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims as the service issues them, for a client.
fn claims_for(client_id: &str) -> serde_json::Value {
    json!({
        "iss": "syndicate", "aud": "syndicate-api", "sub": client_id, "role": "admin",
        "iat": now(), "nbf": now(), "exp": now() + 600, "jti": "test",
    })
}

fn with(mut claims: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
    claims[key] = value;
    claims
}

fn without(mut claims: serde_json::Value, key: &str) -> serde_json::Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

/// A token with the given header and claims and a made-up signature.
fn unsigned(header: serde_json::Value, claims: &serde_json::Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}

/// Form fields of a token request.
type Form<'a> = Vec<(&'a str, &'a str)>;

async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/v1/auth/token"))
        .form(form)
        .send()
        .await
        .unwrap()
}

crate::backend_tests! {
    async fn client_credentials_in_basic_auth_get_a_bearer_token(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.create_client(Role::Admin, None);

        let response = app
            .client
            .post(app.url("/v1/auth/token"))
            .basic_auth(&admin.client_id, Some(&admin.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 900);
        let me = app.get_as(body["access_token"].as_str().unwrap(), "/v1/me").await;
        assert_eq!(me.status(), 200);
        let me: serde_json::Value = me.json().await.unwrap();
        assert_eq!(me["client_id"], admin.client_id.as_str());
        assert_eq!(me["role"], "admin");
    }

    async fn client_credentials_in_the_form_or_in_json_get_a_token(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.create_client(Role::Admin, None);

        let form = token_request(&app, &[
            ("grant_type", "client_credentials"),
            ("client_id", &admin.client_id),
            ("client_secret", &admin.client_secret),
        ]).await;
        let json = app.client.post(app.url("/v1/auth/token")).json(&json!({
            "grant_type": "client_credentials",
            "client_id": admin.client_id,
            "client_secret": admin.client_secret,
        })).send().await.unwrap();

        assert_eq!(form.status(), 200);
        assert_eq!(json.status(), 200);
    }

    async fn token_endpoint_errors_follow_rfc_6749(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.create_client(Role::Admin, None);
        let (id, secret) = (admin.client_id.as_str(), admin.client_secret.as_str());
        let cases: Vec<(Form, u16, &str)> = vec![
            (vec![("grant_type", "client_credentials"), ("client_id", id), ("client_secret", "wrong")], 401, "invalid_client"),
            (vec![("grant_type", "client_credentials"), ("client_id", "019ac0a5-0c4e-7a8b-b1c2-d3e4f5a6b7c8"), ("client_secret", secret)], 401, "invalid_client"),
            (vec![("grant_type", "client_credentials"), ("client_id", "not-a-uuid"), ("client_secret", secret)], 401, "invalid_client"),
            (vec![("grant_type", "client_credentials")], 401, "invalid_client"),
            (vec![("client_id", id), ("client_secret", secret)], 400, "invalid_request"),
            (vec![("grant_type", "password"), ("client_id", id), ("client_secret", secret)], 400, "unsupported_grant_type"),
        ];

        for (form, status, error) in cases {
            let response = token_request(&app, &form).await;

            assert_eq!(response.status().as_u16(), status, "{form:?}");
            if status == 401 {
                assert_eq!(response.headers()["www-authenticate"], "Basic realm=\"syndicate\"");
            }
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"], error, "{form:?}");
            assert!(body["error_description"].is_string());
        }
    }

    async fn credentials_in_both_header_and_body_are_refused(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.create_client(Role::Admin, None);

        let response = app.client.post(app.url("/v1/auth/token"))
            .basic_auth(&admin.client_id, Some(&admin.client_secret))
            .form(&[("grant_type", "client_credentials"), ("client_id", &admin.client_id), ("client_secret", &admin.client_secret)])
            .send().await.unwrap();

        assert_eq!(response.status(), 400);
        assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_request");
    }

    async fn a_token_request_of_another_media_type_is_a_415_problem(backend: Backend) {
        let app = spawn_app(backend).await;

        let response = app.client.post(app.url("/v1/auth/token"))
            .header("content-type", "text/plain").body("grant_type=client_credentials").send().await.unwrap();

        expect_problem(response, 415).await;
    }

    async fn guessing_secrets_is_throttled_per_client_id(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.create_client(Role::Admin, None);

        // The bucket holds 20 and refills one every 3 s, so a slow machine
        // may squeeze in an extra guess or two; the 429 must still come.
        let mut statuses = Vec::new();
        while statuses.last() != Some(&429) && statuses.len() < 40 {
            let response = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &admin.client_id), ("client_secret", "guess")]).await;
            statuses.push(response.status().as_u16());
        }
        let blocked = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &admin.client_id), ("client_secret", &admin.client_secret)]).await;

        assert!(statuses.len() >= 21 && statuses.len() < 40, "{statuses:?}");
        assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 401), "{statuses:?}");
        assert!(blocked.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
        let problem = expect_problem(blocked, 429).await;
        assert_eq!(problem["type"], "/problems/rate-limited");
    }

    async fn guessing_from_one_address_is_throttled_across_client_ids(backend: Backend) {
        let app = crate::harness::spawn_app_with(backend, |s| {
            s.auth.attempts_per_address = std::num::NonZeroU32::new(5).unwrap();
        }).await;

        let mut statuses = Vec::new();
        for _ in 0..6 {
            let id = uuid::Uuid::now_v7().to_string();
            let response = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", "guess")]).await;
            statuses.push(response.status().as_u16());
        }

        assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429]);
    }

    async fn every_bad_token_is_a_401_problem(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.create_client(Role::Admin, None);
        let good = claims_for(&admin.client_id);
        let keys = syndicate::identity::KeyStore::load_or_generate(&app.keys_dir).unwrap();
        let kid = keys.signing_kid().to_owned();
        let public_key = keys.jwks()["keys"][0]["x"].as_str().unwrap().to_owned();
        let hs256_with_public_key = {
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            header.kid = Some(kid.clone());
            let secret = URL_SAFE_NO_PAD.decode(&public_key).unwrap();
            jsonwebtoken::encode(&header, &good, &jsonwebtoken::EncodingKey::from_secret(&secret).unwrap()).unwrap()
        };
        let foreign_key = |kid: &str| {
            let foreign = syndicate::identity::KeyStore::ephemeral().unwrap();
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
            header.kid = Some(kid.to_owned());
            jsonwebtoken::encode(&header, &good, foreign.encoding_key()).unwrap()
        };
        let cases: Vec<(&str, Option<String>)> = vec![
            ("no header", None),
            ("garbage", Some("Bearer not.a.jwt".to_owned())),
            ("wrong scheme", Some(format!("Basic {}", app.sign(&good)))),
            ("alg none", Some(format!("Bearer {}", unsigned(json!({"alg": "none", "typ": "JWT", "kid": kid}), &good, "")))),
            ("HS256 keyed with the public key", Some(format!("Bearer {hs256_with_public_key}"))),
            ("signed by an unknown key under our kid", Some(format!("Bearer {}", foreign_key(&kid)))),
            ("unknown kid", Some(format!("Bearer {}", foreign_key("someone-elses-key")))),
            ("no kid", Some(format!("Bearer {}", unsigned(json!({"alg": "EdDSA", "typ": "JWT"}), &good, "c2ln")))),
            ("expired", Some(format!("Bearer {}", app.sign(&with(good.clone(), "exp", json!(now() - 60)))))),
            ("nbf in the future", Some(format!("Bearer {}", app.sign(&with(good.clone(), "nbf", json!(now() + 600)))))),
            ("iat in the future", Some(format!("Bearer {}", app.sign(&with(good.clone(), "iat", json!(now() + 600)))))),
            ("wrong aud", Some(format!("Bearer {}", app.sign(&with(good.clone(), "aud", json!("someone-else")))))),
            ("wrong iss", Some(format!("Bearer {}", app.sign(&with(good.clone(), "iss", json!("evil")))))),
            ("missing exp", Some(format!("Bearer {}", app.sign(&without(good.clone(), "exp"))))),
            ("missing nbf", Some(format!("Bearer {}", app.sign(&without(good.clone(), "nbf"))))),
            ("missing sub", Some(format!("Bearer {}", app.sign(&without(good.clone(), "sub"))))),
            ("sub of no client", Some(format!("Bearer {}", app.sign(&with(good.clone(), "sub", json!(uuid::Uuid::now_v7())))))),
            ("role without its organisation", Some(format!("Bearer {}", app.sign(&with(good.clone(), "role", json!("publisher")))))),
        ];

        for (case, header) in cases {
            let mut request = app.client.get(app.url("/v1/me"));
            if let Some(header) = header {
                request = request.header("Authorization", header);
            }
            let response = request.send().await.unwrap();

            assert_eq!(response.status(), 401, "{case}");
            assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"syndicate\"", "{case}");
            let problem = expect_problem(response, 401).await;
            assert_eq!(problem["type"], "/problems/unauthorized", "{case}");
        }
        let sanity = app.get_as(&app.sign(&good), "/v1/me").await;
        assert_eq!(sanity.status(), 200, "the battery's own good token must pass");
    }

    async fn a_64_kib_token_is_refused_without_a_5xx(backend: Backend) {
        let app = spawn_app(backend).await;

        let response = app.get_as(&"a".repeat(64 * 1024), "/v1/me").await;

        // actix's HTTP/1 parser takes a head of up to 128 KiB, so the token
        // reaches our own code, which must refuse it with a problem.
        assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"syndicate\"");
        let problem = expect_problem(response, 401).await;
        assert_eq!(problem["type"], "/problems/unauthorized");
        assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()), "{problem}");
    }

    async fn a_revoked_clients_live_token_is_refused_on_the_next_request(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let doomed = app.create_client(Role::Admin, None);
        let token = app.token_for(&doomed).await;
        assert_eq!(app.get_as(&token, "/v1/me").await.status(), 200);

        let revoke = app.client.delete(app.url(&format!("/v1/clients/{}", doomed.client_id))).bearer_auth(&admin).send().await.unwrap();

        assert_eq!(revoke.status(), 204);
        let problem = expect_problem(app.get_as(&token, "/v1/me").await, 401).await;
        assert_eq!(problem["detail"], "the token's client has been revoked");
        let new_token = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &doomed.client_id), ("client_secret", &doomed.client_secret)]).await;
        assert_eq!(new_token.status(), 401);
    }

    async fn suspending_a_licensee_refuses_its_live_token_with_403_suspended(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let licensee = app.create_licensee(&admin, "Morning Brief", &["GB"]).await;
        let client = app.create_client(Role::Licensee, Some(&licensee));
        let token = app.token_for(&client).await;
        assert_eq!(app.get_as(&token, "/v1/me").await.status(), 200);

        let suspend = app.send_json(reqwest::Method::PATCH, &admin, &format!("/v1/licensees/{licensee}"), &json!({"status": "suspended"})).await;

        assert_eq!(suspend.status(), 200);
        let problem = expect_problem(app.get_as(&token, "/v1/me").await, 403).await;
        assert_eq!(problem["type"], "/problems/suspended");
        let refused = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &client.client_id), ("client_secret", &client.client_secret)]).await;
        assert_eq!(refused.status(), 400);
        assert_eq!(refused.json::<serde_json::Value>().await.unwrap()["error"], "unauthorized_client");

        let reactivate = app.send_json(reqwest::Method::PATCH, &admin, &format!("/v1/licensees/{licensee}"), &json!({"status": "active"})).await;

        assert_eq!(reactivate.status(), 200);
        assert_eq!(app.get_as(&token, "/v1/me").await.status(), 200);
    }

    async fn rotating_a_secret_invalidates_the_old_one(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let client = app.create_client(Role::Admin, None);

        let response = app.post_as(&admin, &format!("/v1/clients/{}/rotate-secret", client.client_id), &json!({})).await;

        assert_eq!(response.status(), 200);
        let rotated: serde_json::Value = response.json().await.unwrap();
        let new_secret = rotated["client_secret"].as_str().unwrap();
        assert_ne!(new_secret, client.client_secret);
        let old = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &client.client_id), ("client_secret", &client.client_secret)]).await;
        let new = token_request(&app, &[("grant_type", "client_credentials"), ("client_id", &client.client_id), ("client_secret", new_secret)]).await;
        assert_eq!(old.status(), 401);
        assert_eq!(new.status(), 200);
    }

    async fn secrets_are_stored_only_as_argon2_hashes(backend: Backend) {
        let app = spawn_app(backend).await;
        let client = app.create_client(Role::Admin, None);

        let rows = app.snapshot();

        let row = rows.iter().find(|l| l.contains(&client.client_id)).unwrap();
        assert!(!row.contains(&client.client_secret));
        assert!(row.contains("$argon2id$"));
    }

    async fn tokens_verify_against_the_published_jwks(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.create_client(Role::Admin, None);
        let token = app.token_for(&admin).await;

        let jwks: serde_json::Value = app.get("/.well-known/jwks.json").await.json().await.unwrap();

        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
        let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header.kid.clone().unwrap().as_str()).unwrap();
        assert_eq!((jwk["kty"].as_str(), jwk["crv"].as_str(), jwk["alg"].as_str()), (Some("OKP"), Some("Ed25519"), Some("EdDSA")));
        let key = jsonwebtoken::DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.set_audience(&["syndicate-api"]);
        validation.set_issuer(&["syndicate"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap().claims;
        assert_eq!(claims["sub"], admin.client_id.as_str());
        for claim in ["iat", "nbf", "exp", "jti"] {
            assert!(!claims[claim].is_null(), "{claim} missing");
        }
    }

    async fn me_names_the_callers_organisation(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let publisher = app.create_publisher(&admin, "The Harbour Gazette").await;
        let client = app.create_client(Role::Publisher, Some(&publisher));
        let token = app.token_for(&client).await;

        let me: serde_json::Value = app.get_as(&token, "/v1/me").await.json().await.unwrap();

        assert_eq!(me["role"], "publisher");
        assert_eq!(me["organisation"], json!({"id": publisher, "kind": "publisher", "name": "The Harbour Gazette"}));
    }
}
