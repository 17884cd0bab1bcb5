//! Metering: the ledger, the billing rule, exact quotas, rate limits, the
//! RateLimit header fields, and reports that agree.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{expect_problem, json_of, merged};
use crate::world::{Deal, Party, World};

/// A desk of the Harbour Gazette and a reader of Morning Brief (in GB)
/// with a full licence without media (the stories here carry none) and
/// `terms` on top.
async fn shop(backend: crate::harness::Backend, terms: Value) -> (World, Deal) {
    let w = World::new(backend).await;
    let terms = merged(json!({"include_media": false}), terms);
    let deal = w
        .deal("Harbour Gazette", "Morning Brief", &["GB"], terms)
        .await;
    (w, deal)
}

/// Publishes `n` articles as the desk, a few at a time, and returns their ids.
async fn publish(w: &World, desk: &Party, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
        let requests = chunk.iter().map(|i| {
            let body = json!({
                "external_ref": format!("story-{i}"), "headline": format!("Tide report number {i}"),
                "body_html": "<p>The tide turned at noon.</p>", "section": "news", "language": "en",
                "bylines": [], "status": "published",
            });
            async move { w.article(desk, &body).await }
        });
        for article in futures_util::future::join_all(requests).await {
            ids.push(article["id"].as_str().unwrap().to_owned());
        }
    }
    ids
}

fn remaining(response: &reqwest::Response, policy: &str) -> Option<i64> {
    let field = response
        .headers()
        .get("ratelimit")?
        .to_str()
        .ok()?
        .to_owned();
    field
        .split(", ")
        .find(|item| item.starts_with(&format!("\"{policy}\"")))
        .and_then(|item| {
            item.split(';')
                .find_map(|p| p.strip_prefix("r="))
                .and_then(|r| r.parse().ok())
        })
}

crate::backend_tests! {
    async fn a_quota_of_100_admits_exactly_100_of_400_concurrent_first_deliveries(backend: Backend) {
        let (w, shop) = shop(backend, json!({"quota": {"units": 100, "period": "day"}})).await;
        let ids = publish(&w, &shop.desk, 400).await;

        let statuses: Vec<u16> = {
            let mut statuses = Vec::new();
            for chunk in ids.chunks(50) {
                let fetches = chunk.iter().map(|id| w.fetch(&shop.reader.token, id));
                statuses.extend(futures_util::future::join_all(fetches).await.iter().map(|r| r.status().as_u16()));
            }
            statuses
        };

        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 100);
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 300);
        assert_eq!(w.ledger(&shop.licence).await, (100, 100), "(events, billable)");
        let delivered: Vec<&String> = ids.iter().zip(&statuses).filter(|(_, s)| **s == 200).map(|(id, _)| id).collect();
        let refetches = futures_util::future::join_all(delivered.iter().take(20).map(|id| w.fetch(&shop.reader.token, id))).await;
        assert!(refetches.iter().all(|r| r.status() == 200), "a billed article must stay fetchable");
        assert_eq!(w.ledger(&shop.licence).await, (120, 100), "re-fetches are recorded but not billed");
        let refused = ids.iter().zip(&statuses).find(|(_, s)| **s == 429).unwrap().0;
        let over = w.fetch(&shop.reader.token, refused).await;
        let retry_after: u64 = over.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=86_400).contains(&retry_after));
        assert_eq!(expect_problem(over, 429).await["type"], "/problems/quota-exceeded");
    }

    async fn ratelimit_remaining_goes_down_by_one_per_billable_delivery(backend: Backend) {
        // Six a minute refills one token every 10 s: the three requests
        // below see the bucket go down without a refill in between.
        let (w, shop) = shop(backend, json!({"quota": {"units": 5, "period": "month"}, "rate_limit_per_minute": 6})).await;
        let ids = publish(&w, &shop.desk, 3).await;

        let first = w.fetch(&shop.reader.token, &ids[0]).await;
        let again = w.fetch(&shop.reader.token, &ids[0]).await;
        let second = w.fetch(&shop.reader.token, &ids[1]).await;

        let policy = first.headers()["ratelimit-policy"].to_str().unwrap().to_owned();
        assert!(policy.contains("\"requests\";q=6;w=60") && policy.contains("\"billable\";q=5;w="), "{policy}");
        assert_eq!(remaining(&first, "billable"), Some(4));
        assert_eq!(remaining(&again, "billable"), Some(4), "a re-delivery is not billed");
        assert_eq!(remaining(&second, "billable"), Some(3));
        assert_eq!((remaining(&first, "requests"), remaining(&again, "requests"), remaining(&second, "requests")), (Some(5), Some(4), Some(3)));
        let quota = json_of(w.app.get_as(&shop.reader.token, "/v1/quota").await).await;
        assert_eq!(quota["licences"][0]["used"], 2);
        assert_eq!(quota["licences"][0]["remaining"], 3);
        assert_eq!(quota["licences"][0]["period"], "month");
    }

    async fn the_rate_limit_refuses_with_429_and_retry_after_and_writes_nothing(backend: Backend) {
        let (w, shop) = shop(backend, json!({"rate_limit_per_minute": 3})).await;
        let ids = publish(&w, &shop.desk, 1).await;

        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(w.fetch(&shop.reader.token, &ids[0]).await);
        }

        assert_eq!(statuses.iter().map(|r| r.status().as_u16()).collect::<Vec<_>>(), [200, 200, 200, 429]);
        let limited = statuses.pop().unwrap();
        assert!(limited.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
        assert_eq!(remaining(&limited, "requests"), Some(0));
        assert_eq!(expect_problem(limited, 429).await["type"], "/problems/rate-limited");
        assert_eq!(w.ledger(&shop.licence).await, (3, 1));
    }

    async fn licensee_and_publisher_reports_agree_and_csv_equals_json(backend: Backend) {
        let (w, shop) = shop(backend, json!({"price_per_unit": {"amount_minor": 25, "currency": "GBP"}})).await;
        let ids = publish(&w, &shop.desk, 3).await;
        for id in [&ids[0], &ids[1], &ids[0], &ids[2], &ids[2]] {
            assert_eq!(w.fetch(&shop.reader.token, id).await.status(), 200);
        }
        w.app.settled().await;

        let licensee = json_of(w.app.get_as(&shop.reader.token, "/v1/usage?group_by=publisher").await).await;
        let publisher = json_of(w.app.get_as(&shop.desk.token, "/v1/usage?group_by=licensee").await).await;
        let admin = json_of(w.app.get_as(&w.admin, "/v1/usage").await).await;
        let by_article = json_of(w.app.get_as(&shop.reader.token, "/v1/usage?group_by=article").await).await;
        let csv = w.app.client.get(w.app.url("/v1/usage?group_by=article")).bearer_auth(&shop.reader.token)
            .header("Accept", "text/csv").send().await.unwrap();

        let expected = json!({"deliveries": 5, "billable_units": 3, "amounts": [{"currency": "GBP", "amount_minor": 75}]});
        assert_eq!(licensee["totals"], expected);
        assert_eq!(publisher["totals"], expected);
        assert_eq!(admin["totals"], expected);
        assert_eq!(by_article["rows"].as_array().unwrap().len(), 3);
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("key,label,currency,deliveries,billable_units,amount_minor"));
        let from_json: Vec<String> = by_article["rows"].as_array().unwrap().iter().map(|r| format!(
            "{},{},{},{},{},{}", r["key"].as_str().unwrap(), r["label"].as_str().unwrap(), r["currency"].as_str().unwrap(), r["deliveries"], r["billable_units"], r["amount_minor"]
        )).collect();
        assert_eq!(lines.map(str::to_owned).collect::<Vec<_>>(), from_json);
    }

    async fn the_report_is_also_an_svg_chart_linked_from_the_json(backend: Backend) {
        let (w, shop) = shop(backend, json!({})).await;
        let ids = publish(&w, &shop.desk, 2).await;
        for id in &ids {
            w.fetch(&shop.reader.token, id).await;
        }
        w.app.settled().await;

        let report = json_of(w.app.get_as(&shop.reader.token, "/v1/usage?group_by=article").await).await;
        let linked = w.app.get_as(&shop.reader.token, report["chart"].as_str().unwrap()).await;
        let negotiated = w.app.client.get(w.app.url("/v1/usage")).bearer_auth(&shop.reader.token)
            .header("Accept", "image/svg+xml").send().await.unwrap();

        assert_eq!(linked.headers()["content-type"], "image/svg+xml");
        let svg = linked.text().await.unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
        for i in 0..2 {
            assert!(svg.contains(&format!("<title>Tide report number {i}: 1 deliveries</title>")), "story {i} missing from the chart");
        }
        assert!(svg.contains(">Usage by article</text>") && !svg.contains("<script"));
        assert_eq!(negotiated.headers()["content-type"], "image/svg+xml");
    }

    async fn reports_are_scoped_to_the_caller_and_validate_their_range(backend: Backend) {
        let (w, shop) = shop(backend, json!({})).await;
        let ids = publish(&w, &shop.desk, 1).await;
        w.fetch(&shop.reader.token, &ids[0]).await;
        let outsider = w.licensee("Evening Digest", &["FR"]).await;

        let theirs = json_of(w.app.get_as(&outsider.token, "/v1/usage").await).await;
        let future = json_of(w.app.get_as(&shop.reader.token, "/v1/usage?from=2099-01-01T00:00:00Z&to=2099-02-01T00:00:00Z").await).await;

        assert_eq!(theirs["totals"]["deliveries"], 0);
        assert_eq!(future["totals"]["deliveries"], 0);
        let reversed = w.app.get_as(&shop.reader.token, "/v1/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z").await;
        assert_eq!(reversed.status(), 200, "a range that ends before it starts holds nothing");
        assert_eq!(reversed.json::<Value>().await.unwrap()["totals"]["deliveries"], 0);
        expect_problem(w.app.get_as(&shop.reader.token, &format!("/v1/usage?licensee_id={}", outsider.id)).await, 403).await;
        expect_problem(w.app.get_as(&shop.reader.token, "/v1/usage?group_by=week").await, 400).await;
        expect_problem(w.app.get_as(&shop.reader.token, "/v1/usage?from=2026-01-01").await, 400).await;
    }

    async fn refused_and_unlicensed_requests_write_nothing(backend: Backend) {
        let (w, shop) = shop(backend, json!({"sections": ["sport"]})).await;
        let ids = publish(&w, &shop.desk, 2).await;

        for id in &ids {
            expect_problem(w.fetch(&shop.reader.token, id).await, 404).await;
        }
        let patch = w.app.send_json(Method::PATCH, &w.admin, &format!("/v1/licences/{}", shop.licence), &json!({"sections": null})).await;

        assert_eq!(w.ledger(&shop.licence).await, (0, 0));
        assert_eq!(patch.status(), 200);
        assert_eq!(w.fetch(&shop.reader.token, &ids[0]).await.status(), 200);
        assert_eq!(w.ledger(&shop.licence).await, (1, 1));
    }
}

mod daily {
    use chrono::{Duration, NaiveDate, NaiveDateTime};
    use syndicate::storage::reports::{self, GroupBy, ReportScope};
    use syndicate::storage::usage;

    use crate::harness::{count_events, spawn_app};

    fn delivery(n: i64, at: NaiveDateTime) -> usage::Delivery {
        let licence = n % 3;
        usage::Delivery {
            id: uuid::Uuid::now_v7().to_string(),
            licensee_id: format!("licensee-{}", licence % 2),
            licence_id: format!("licence-{licence}"),
            publisher_id: format!("publisher-{}", n % 2),
            article_id: format!("article-{}", n % 7),
            article_version: 1,
            tier: "full".to_owned(),
            format: "json".to_owned(),
            at,
            period_start: at.date().and_time(chrono::NaiveTime::MIN),
            request_id: uuid::Uuid::now_v7().to_string(),
            quota: None,
            unit_price: (n % 5 != 0).then_some(3 + licence),
            currency: match licence {
                0 => Some("GBP".to_owned()),
                1 => Some("EUR".to_owned()),
                _ => None,
            },
            purpose: syndicate::domain::purpose::Purpose::Display,
            attribution: None,
            decided_on: None,
        }
    }

    crate::backend_tests! {
        async fn reports_from_daily_totals_agree_with_the_events_for_any_range(backend: Backend) {
            let app = spawn_app(backend).await;
            let mut conn = app.db.connect();
            let base = NaiveDate::from_ymd_opt(2026, 3, 30).unwrap().and_hms_opt(0, 0, 0).unwrap();
            let all: Vec<usage::Delivery> = (0..240).map(|n| delivery(n, base + Duration::minutes(29 * n))).collect();
            for chunk in all.chunks(70) {
                usage::record_batch(&mut conn, chunk).unwrap();
            }
            let at = |hours: i64| Some(base + Duration::minutes(hours * 60 + 7));
            let starts = [None, Some(base), at(5), Some(base + Duration::days(1)), at(47), at(60)];
            let ends = [None, Some(base + Duration::days(3)), at(49), at(30), at(106), at(300), at(2)];

            let mut compared = 0;
            for from in starts {
                for to in ends {
                    for licensee in [None, Some("licensee-1".to_owned())] {
                        for group_by in [GroupBy::Day, GroupBy::Publisher, GroupBy::Licensee, GroupBy::Licence] {
                            let scope = ReportScope { licensee_id: licensee.clone(), publisher_id: None, from, to };
                            let from_events = reports::report_from_events(&mut conn, &scope, group_by).unwrap();
                            assert_eq!(reports::report(&mut conn, &scope, group_by).unwrap(), from_events, "{scope:?} {group_by:?}");
                            // The chart's rows per day add up to the same.
                            let mut summed: std::collections::BTreeMap<(String, Option<String>), (i64, i64, i64)> = Default::default();
                            for reports::DayRow { row, .. } in reports::series(&mut conn, &scope, group_by).unwrap() {
                                let sum = summed.entry((row.key, row.currency)).or_default();
                                *sum = (sum.0 + row.deliveries, sum.1 + row.billable_units, sum.2 + row.amount_minor);
                            }
                            let expected: std::collections::BTreeMap<_, _> = from_events.into_iter()
                                .map(|r| ((r.key, r.currency), (r.deliveries, r.billable_units, r.amount_minor))).collect();
                            assert_eq!(summed, expected, "series {scope:?} {group_by:?}");
                            compared += 1;
                        }
                    }
                }
            }
            assert_eq!(compared, 6 * 7 * 2 * 4);
            let whole = reports::report(&mut conn, &ReportScope::default(), GroupBy::Day).unwrap();
            assert_eq!(whole.iter().map(|r| r.deliveries).sum::<i64>(), 240);
        }

        async fn a_batch_bills_each_new_key_once_and_gives_back_keys_refused_over_quota(backend: Backend) {
            use usage::Recorded::{Delivered, OverQuota};
            let app = spawn_app(backend).await;
            let mut conn = app.db.connect();
            let at = NaiveDate::from_ymd_opt(2026, 5, 4).unwrap().and_hms_opt(9, 0, 0).unwrap();
            let of = |article: &str, quota: i64| usage::Delivery {
                licence_id: "licence-q".to_owned(),
                article_id: article.to_owned(),
                quota: Some(quota),
                ..delivery(0, at)
            };
            let earlier = usage::record_batch(&mut conn, &[of("c", 2)]).unwrap();
            assert_eq!(earlier, [Delivered { billable: true, used: 1 }]);

            let batch = [of("a", 2), of("a", 2), of("b", 2), of("b", 2), of("c", 2)];
            let outcomes = usage::record_batch(&mut conn, &batch).unwrap();
            assert_eq!(outcomes, [
                Delivered { billable: true, used: 2 },
                Delivered { billable: false, used: 2 },
                OverQuota { used: 2 },
                OverQuota { used: 2 },
                Delivered { billable: false, used: 2 },
            ]);
            assert_eq!(count_events(&mut conn, "licence-q"), (4, 2), "(events, billable)");
            assert_eq!(usage::counter(&mut conn, "licence-q", at.date().and_time(chrono::NaiveTime::MIN)).unwrap(), 2);

            // The refused key was given back: with room in the quota it bills.
            let later = usage::record_batch(&mut conn, &[of("b", 3), of("b", 3)]).unwrap();
            assert_eq!(later, [Delivered { billable: true, used: 3 }, Delivered { billable: false, used: 3 }]);
            assert_eq!(count_events(&mut conn, "licence-q"), (6, 3));
        }
    }
}
