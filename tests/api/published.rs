//! One licence in every format: the RSL document, the TDMRep policy and a
//! delivery's `Content-Usage` and `tdm-reservation` fields say what the
//! access decision does, for licences of several purposes, prices and
//! attribution, every purpose and every data-mining value of a photo.
//! Each format is read as a client reads it (the RSL with an XML parser),
//! never compared with the service's own code.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::harness::{expect_problem, json_of};
use crate::world::{Party, World};

const RSL: &str = "https://rslstandard.org/rsl";
const PURPOSES: [&str; 5] = ["display", "search", "ai-index", "ai-input", "ai-train"];
const MINING: [&str; 4] = ["search", "ai-index", "ai-input", "ai-train"];

/// Every data-mining value, with the purposes it keeps a photo from, as
/// PLUS defines them.
const VALUES: [(&str, &[&str]); 9] = [
    ("unspecified", &[]),
    ("allowed", &[]),
    ("prohibited_ai_ml_training", &["ai-train"]),
    ("prohibited_gen_ai_ml_training", &["ai-train"]),
    (
        "prohibited_except_search_engine_indexing",
        &["ai-index", "ai-input", "ai-train"],
    ),
    ("prohibited", &MINING),
    ("prohibited_see_constraint", &MINING),
    ("prohibited_see_embedded_rights_expression", &MINING),
    ("prohibited_see_linked_rights_expression", &MINING),
];

fn href(value: &str) -> String {
    format!("https://images.example.org/{value}.jpg")
}

fn photo(value: &str) -> Value {
    json!({
        "caption": "Lanterns along the river on the first night of the festival.",
        "credit_line": "Photograph: Wen Li/新华社",
        "copyright_holder": "新华社",
        "renditions": [{"href": href(value), "width": 1200, "height": 800, "mime_type": "image/jpeg"}],
        "rights": {"syndication": "allowed", "data_mining": value},
    })
}

fn story(photos: &[String]) -> Value {
    let media: Vec<Value> = photos
        .iter()
        .map(|id| json!({"media_id": id, "role": "inline"}))
        .collect();
    json!({
        "external_ref": "lantern-festival",
        "headline": "Lantern festival draws record crowds to the riverside",
        "body_html": "<p>Organisers counted more visitors than in any year before.</p>",
        "section": "culture", "language": "en-GB", "status": "published",
        "canonical_url": "https://xinhua.example/culture/lantern-festival",
        "bylines": [{"name": "Wen Li", "location": "in Hangzhou"}],
        "media": media,
    })
}

/// The terms the licences are made on: purpose subsets with and without
/// prices (own and the licence's), sections, and attribution.
fn licence_terms() -> Vec<Value> {
    vec![
        json!({}),
        json!({"sections": ["culture"], "price_per_unit": {"amount_minor": 25, "currency": "GBP"},
               "purposes": [{"purpose": "display"}, {"purpose": "search", "price_per_unit": {"amount_minor": 5, "currency": "GBP"}}]}),
        json!({"purposes": [{"purpose": "ai-input", "price_per_unit": {"amount_minor": 40, "currency": "GBP"}}],
               "attribution_required": true}),
        json!({"purposes": [{"purpose": "search"}, {"purpose": "ai-index"}, {"purpose": "ai-input"}, {"purpose": "ai-train"}],
               "attribution_required": true}),
        json!({"price_per_unit": {"amount_minor": 1500, "currency": "JPY"},
               "purposes": [{"purpose": "display"}, {"purpose": "search"}, {"purpose": "ai-index"}, {"purpose": "ai-input"},
                            {"purpose": "ai-train", "price_per_unit": {"amount_minor": 90000, "currency": "JPY"}}]}),
    ]
}

/// The usage terms one term stands for.
fn expand(term: &str) -> Vec<&'static str> {
    match term {
        "all" => MINING.to_vec(),
        "ai-all" => vec!["ai-index", "ai-input", "ai-train"],
        other => MINING
            .into_iter()
            .filter(|m| *m == other)
            .collect::<Vec<_>>(),
    }
}

/// One `<license>`: the terms it permits, its payment type, amount and
/// currency.
type Licence = (Vec<String>, Option<String>, Option<String>, Option<String>);

/// What an RSL document says of one `<content>`: the usage terms its
/// licences permit and prohibit, and each licence's payment.
#[derive(Debug, Default)]
struct Said {
    permits: BTreeSet<String>,
    prohibits: BTreeSet<String>,
    /// (permitted terms, payment type, amount, currency) per `<license>`.
    licences: Vec<Licence>,
    terms: Option<String>,
}

/// Parses an RSL document, checking that it uses only the RSL 1.0
/// vocabulary, and returns what it says of each content URL.
fn read_rsl(text: &str) -> Vec<(String, Said)> {
    let doc = roxmltree::Document::parse(text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "rsl");
    let elements = [
        "rsl",
        "content",
        "license",
        "permits",
        "prohibits",
        "payment",
        "amount",
        "copyright",
        "terms",
    ];
    let usage_terms = [
        "all", "ai-all", "search", "ai-index", "ai-input", "ai-train",
    ];
    for node in doc.descendants().filter(|n| n.is_element()) {
        assert_eq!(node.tag_name().namespace(), Some(RSL), "{text}");
        assert!(elements.contains(&node.tag_name().name()), "{text}");
        if matches!(node.tag_name().name(), "permits" | "prohibits") {
            assert_eq!(node.attribute("type"), Some("usage"));
            for term in node.text().unwrap().split(' ') {
                assert!(usage_terms.contains(&term), "{term} in {text}");
            }
        }
    }
    root.children()
        .filter(|n| n.is_element())
        .map(|content| {
            assert_eq!(content.tag_name().name(), "content");
            let mut said = Said::default();
            for node in content.children().filter(|n| n.is_element()) {
                match node.tag_name().name() {
                    "license" => {
                        let mut permitted = Vec::new();
                        let mut payment = (None, None, None);
                        for part in node.children().filter(|n| n.is_element()) {
                            let terms = || part.text().unwrap().split(' ').map(str::to_owned);
                            match part.tag_name().name() {
                                "permits" => {
                                    permitted.extend(terms());
                                    said.permits.extend(terms());
                                }
                                "prohibits" => said
                                    .prohibits
                                    .extend(terms().flat_map(|t| expand(&t)).map(str::to_owned)),
                                "payment" => {
                                    let amount = part.children().find(|n| n.has_tag_name("amount"));
                                    payment = (
                                        part.attribute("type").map(str::to_owned),
                                        amount.and_then(|a| a.text()).map(str::to_owned),
                                        amount
                                            .and_then(|a| a.attribute("currency"))
                                            .map(str::to_owned),
                                    );
                                }
                                other => panic!("{other} in a license"),
                            }
                        }
                        said.licences
                            .push((permitted, payment.0, payment.1, payment.2));
                    }
                    "terms" => said.terms = node.text().map(str::to_owned),
                    "copyright" => assert_eq!(node.text(), Some("新华社")),
                    other => panic!("{other} in a content"),
                }
            }
            let both: Vec<_> = said.permits.intersection(&said.prohibits).collect();
            assert!(
                both.is_empty(),
                "{both:?} both permitted and prohibited: {text}"
            );
            (content.attribute("url").unwrap().to_owned(), said)
        })
        .collect()
}

/// The publisher's RSL document as `token` reads it, checked for its media
/// type.
async fn rsl_of(w: &World, token: &str, publisher: &str) -> String {
    let response = w
        .app
        .get_as(token, &format!("/v1/publishers/{publisher}/license.xml"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/rsl+xml"
    );
    response.text().await.unwrap()
}

/// A minor-unit price in major units as the tests expect it written.
fn major(amount_minor: i64, currency: &str) -> String {
    match currency {
        "JPY" => amount_minor.to_string(),
        _ => format!("{}.{:02}", amount_minor / 100, amount_minor % 100),
    }
}

/// Checks one licensee's formats against its decisions: returns nothing,
/// stops at the first disagreement.
async fn check_agreement(w: &World, desk: &Party, reader: &Party, licence: &str, article: &str) {
    let stored = json_of(
        w.app
            .get_as(&w.admin, &format!("/v1/licences/{licence}"))
            .await,
    )
    .await;
    let base = w.app.url("");
    let rsl = read_rsl(&rsl_of(w, &reader.token, &desk.id).await);
    let all_url = format!("{base}/v1/content?publisher_id={}", desk.id);
    let section_url = format!("{all_url}&section=culture");
    // The most specific content that matches the article's section.
    let (_, said) = rsl
        .iter()
        .find(|(url, _)| *url == section_url)
        .or_else(|| rsl.iter().find(|(url, _)| *url == all_url))
        .unwrap();
    assert_eq!(
        said.terms.as_deref(),
        Some(format!("{base}/v1/licences/{licence}").as_str())
    );
    let photo_prohibits = |value: &str| -> BTreeSet<String> {
        rsl.iter()
            .find(|(url, _)| *url == href(value))
            .map(|(_, s)| s.prohibits.clone())
            .unwrap_or_default()
    };

    // The licence's payments, in RSL.
    let price_of = |purpose: &str| -> Option<(i64, String)> {
        let own = stored["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["purpose"] == purpose)?;
        let price = own
            .get("price_per_unit")
            .unwrap_or(&stored["price_per_unit"]);
        price.as_object().map(|p| {
            (
                p["amount_minor"].as_i64().unwrap(),
                p["currency"].as_str().unwrap().to_owned(),
            )
        })
    };
    for (permitted, kind, amount, currency) in &said.licences {
        for term in permitted {
            match price_of(term) {
                Some((minor, cur)) if minor > 0 => {
                    assert_eq!(kind.as_deref(), Some("crawl"), "{term}");
                    assert_eq!(
                        amount.as_deref(),
                        Some(major(minor, &cur).as_str()),
                        "{term}"
                    );
                    assert_eq!(currency.as_deref(), Some(cur.as_str()));
                }
                _ if stored["attribution_required"] == true => {
                    assert_eq!(kind.as_deref(), Some("attribution"), "{term}");
                }
                _ => assert_eq!(kind, &None, "{term}"),
            }
        }
    }

    // The TDMRep policy of the licence.
    let response = w
        .app
        .get_as(
            &reader.token,
            &format!("/v1/licences/{licence}/tdm-policy.json"),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/ld+json"
    );
    let policy: Value = response.json().await.unwrap();
    assert_eq!(
        policy["@context"],
        json!([
            "http://www.w3.org/ns/odrl.jsonld",
            "http://www.w3.org/ns/tdmrep.jsonld"
        ])
    );
    assert_eq!(
        (&policy["@type"], &policy["profile"]),
        (&json!("Offer"), &json!("http://www.w3.org/ns/tdmrep"))
    );
    assert_eq!(policy["assigner"]["vcard:fn"], "新华社");
    let policy_url = format!("{base}/v1/licences/{licence}/tdm-policy.json");
    assert_eq!(policy["uid"], policy_url);
    let mut offered = BTreeSet::new();
    for permission in policy["permission"].as_array().unwrap() {
        assert_eq!(permission["action"], "tdm:mine");
        let purposes: Vec<String> = permission["constraint"][0]["rightOperand"]
            .as_array()
            .unwrap()
            .iter()
            .map(|iri| {
                iri.as_str()
                    .unwrap()
                    .strip_prefix("https://rslstandard.org/rsl#")
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let duties: Vec<&str> = permission["duty"]
            .as_array()
            .map(|d| d.iter().map(|x| x["action"].as_str().unwrap()).collect())
            .unwrap_or_default();
        let priced = purposes
            .iter()
            .any(|p| price_of(p).is_some_and(|(m, _)| m > 0));
        assert_eq!(duties.contains(&"compensate"), priced, "{permission}");
        assert_eq!(
            duties.contains(&"attribute"),
            stored["attribution_required"] == true
        );
        offered.extend(purposes);
    }

    for purpose in PURPOSES {
        let response = w
            .app
            .get_as(
                &reader.token,
                &format!("/v1/content/{article}?purpose={purpose}"),
            )
            .await;
        let in_licence = stored["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["purpose"] == purpose);
        if purpose != "display" {
            // RSL and TDMRep agree with the licence, and with each other.
            assert_eq!(said.permits.contains(purpose), in_licence, "{purpose}");
            assert_eq!(said.prohibits.contains(purpose), !in_licence, "{purpose}");
            assert_eq!(offered.contains(purpose), in_licence, "{purpose}");
        }
        if !in_licence {
            let problem = expect_problem(response, 403).await;
            assert_eq!(problem["type"], "/problems/purpose-not-licensed");
            continue;
        }
        assert_eq!(response.status(), 200, "{purpose}");
        let headers = response.headers().clone();
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        assert_eq!(
            header("link"),
            format!(
                "<{base}/v1/publishers/{}/license.xml>; rel=\"license\"; type=\"application/rsl+xml\"",
                desk.id
            )
        );
        let yes_no = |term: &str| {
            if said.permits.contains(term) {
                "y"
            } else {
                "n"
            }
        };
        assert_eq!(
            header("content-usage"),
            format!(
                "train-ai={}, search={}",
                yes_no("ai-train"),
                yes_no("search")
            )
        );
        let everything = MINING.iter().all(|m| said.permits.contains(*m));
        assert_eq!(
            header("tdm-reservation"),
            if everything { "0" } else { "1" }
        );
        assert_eq!(header("tdm-policy"), policy_url);

        let body: Value = response.json().await.unwrap();
        let delivered: BTreeSet<&str> = body["media"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["data_mining"].as_str().unwrap())
            .collect();
        let withheld: Vec<&Value> = body["media_withheld"].as_array().unwrap().iter().collect();
        assert!(
            withheld.iter().all(|m| m["reason"] == "data_mining"),
            "{purpose}"
        );
        for (value, kept_from) in VALUES {
            // What the published RSL says of the photo…
            let prohibited = photo_prohibits(value).contains(purpose);
            // …is what the PLUS definition says…
            assert_eq!(
                prohibited,
                kept_from.contains(&purpose),
                "{value} {purpose}"
            );
            // …and what the decision did.
            assert_eq!(delivered.contains(value), !prohibited, "{value} {purpose}");
        }
        assert_eq!(delivered.len() + withheld.len(), VALUES.len());
    }
}

crate::backend_tests! {
    async fn every_format_says_what_the_access_decision_does(backend: Backend) {
        let w = World::new(backend).await;
        let desk = w.publisher("新华社").await;
        let mut photos = Vec::new();
        for (value, _) in VALUES {
            photos.push(w.photo(&desk, &photo(value)).await);
        }
        let article = w.article(&desk, &story(&photos)).await["id"].as_str().unwrap().to_owned();
        for (i, terms) in licence_terms().into_iter().enumerate() {
            let reader = w.licensee(&format!("Reader {i}"), &["GB"]).await;
            let licence = w.licence(&desk, &reader, terms).await;
            check_agreement(&w, &desk, &reader, &licence, &article).await;
        }

        // The publisher and admins read every licence in force on the
        // content, in the same vocabulary.
        for token in [&desk.token, &w.admin] {
            let rsl = read_rsl(&rsl_of(&w, token, &desk.id).await);
            let (_, culture) = rsl.iter().find(|(url, _)| url.ends_with("&section=culture")).unwrap();
            assert_eq!(culture.permits, MINING.iter().map(|m| m.to_string()).collect());
            assert_eq!(rsl.len(), 2 + 7, "the content, its section and seven restricted photos");
        }
    }

    async fn the_documents_are_for_those_who_may_see_the_licences_and_follow_each_change(backend: Backend) {
        let w = World::new(backend).await;
        let desk = w.publisher("新华社").await;
        let other = w.publisher("Hill Gazette").await;
        let reader = w.licensee("Answer Lab", &["GB"]).await;
        let licence = w.licence(&desk, &reader, json!({})).await;
        let id = w.article(&desk, &story(&[])).await["id"].as_str().unwrap().to_owned();

        // Display only: nothing automated is licensed.
        let before = read_rsl(&rsl_of(&w, &reader.token, &desk.id).await);
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].1.prohibits, MINING.iter().map(|m| m.to_string()).collect());
        assert!(before[0].1.permits.is_empty());
        let fetched = w.fetch(&reader.token, &id).await;
        assert_eq!(fetched.headers()["content-usage"], "train-ai=n, search=n");
        assert_eq!(fetched.headers()["tdm-reservation"], "1");

        // A change shows in the very next document, policy and delivery.
        let changed = w.app.send_json(
            reqwest::Method::PATCH, &w.admin, &format!("/v1/licences/{licence}"),
            &json!({"purposes": [{"purpose": "display"}, {"purpose": "search"}, {"purpose": "ai-train",
                     "price_per_unit": {"amount_minor": 1250, "currency": "EUR"}}]}),
        ).await;
        assert_eq!(changed.status(), 200);
        let after = read_rsl(&rsl_of(&w, &reader.token, &desk.id).await);
        assert_eq!(after[0].1.permits, ["ai-train", "search"].map(str::to_owned).into());
        assert_eq!(after[0].1.prohibits, ["ai-index", "ai-input"].map(str::to_owned).into());
        assert!(after[0].1.licences.iter().any(|l| l.2.as_deref() == Some("12.50") && l.3.as_deref() == Some("EUR")));
        let policy = json_of(w.app.get_as(&reader.token, &format!("/v1/licences/{licence}/tdm-policy.json")).await).await;
        assert_eq!(policy["permission"].as_array().unwrap().len(), 2, "{policy}");
        let fetched = w.fetch(&reader.token, &id).await;
        assert_eq!(fetched.headers()["content-usage"], "train-ai=y, search=y");

        // Who may not see: another publisher's desk, a licensee without a
        // licence in force with the publisher, and a publisher that does
        // not exist.
        for (token, publisher) in [
            (&other.token, &desk.id),
            (&reader.token, &other.id),
            (&w.admin, &"019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40".to_owned()),
        ] {
            let response = w.app.get_as(token, &format!("/v1/publishers/{publisher}/license.xml")).await;
            expect_problem(response, 404).await;
        }
        let response = w.app.get_as(&other.token, &format!("/v1/licences/{licence}/tdm-policy.json")).await;
        expect_problem(response, 404).await;
        // Ended: the licensee reads nothing; the publisher reads that
        // nothing is licensed.
        let ended = w.app.send_json(
            reqwest::Method::PATCH, &w.admin, &format!("/v1/licences/{licence}"),
            &json!({"valid_until": "2026-01-02T00:00:00Z"}),
        ).await;
        assert_eq!(ended.status(), 200);
        expect_problem(w.app.get_as(&reader.token, &format!("/v1/publishers/{}/license.xml", desk.id)).await, 404).await;
        let nothing = read_rsl(&rsl_of(&w, &desk.token, &desk.id).await);
        assert_eq!(nothing[0].1.prohibits.len(), 4);

        // Bad ids and no token are problems.
        for path in ["/v1/publishers/not-an-id/license.xml", "/v1/licences/42/tdm-policy.json"] {
            let response = w.app.get_as(&w.admin, path).await;
            assert!(response.status().is_client_error(), "{path}: {}", response.status());
            assert_eq!(response.headers()["content-type"], "application/problem+json");
        }
        let anonymous = w.app.client.get(w.app.url(&format!("/v1/publishers/{}/license.xml", desk.id))).send().await.unwrap();
        expect_problem(anonymous, 401).await;
    }
}
