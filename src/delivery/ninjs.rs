//! A delivery as an IPTC ninjs 2.2 document
//! (<http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json>). The article's
//! status is `pubstatus`; each correction is a `descriptions` entry with
//! the role `correction` (ninjs has no property of its own for them, and
//! `ednote` is not meant for readers).

use super::document::ContentResponse;
use crate::domain::access::{Tier, WithheldReason};
use crate::domain::content::ArticleStatus;

/// The ninjs `pubstatus` of an article's status.
fn pubstatus(status: ArticleStatus) -> &'static str {
    match status {
        ArticleStatus::Published => "usable",
        ArticleStatus::Draft | ArticleStatus::Withheld => "withheld",
        ArticleStatus::Killed => "canceled",
    }
}

/// The delivery as an IPTC ninjs 2.2 document.
pub fn document(content: &ContentResponse, publisher_name: &str) -> serde_json::Value {
    use serde_json::{Value, json};
    let mut doc = json!({
        "uri": format!("urn:syndicate:article:{}", content.id),
        "type": "text",
        "representationtype": if content.tier == Tier::Full { "full" } else { "partial" },
        "standard": {"name": "ninjs", "version": "2.2", "schema": "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json#"},
        "version": content.version.to_string(),
        "versioncreated": content.version_created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "pubstatus": pubstatus(content.status),
        "language": content.language,
        "headlines": [{"role": "main", "value": content.headline}],
        "copyrightholder": publisher_name,
        "subjects": std::iter::once(json!({"name": content.section, "rel": "section"}))
            .chain(content.tags.iter().map(|t| json!({"name": t, "rel": "tag"})))
            .collect::<Vec<_>>(),
        "infosources": content.agency_credits.iter().map(|c| json!({
            "name": c.agency, "role": c.role.as_str(), "literal": c.credit_line,
        })).collect::<Vec<_>>(),
        "rightsinfo": {"encodedrights": json!({
            "licence": content.licence_id,
            "tier": content.tier.as_str(),
            "purpose": content.purpose,
            "attribution": content.attribution,
        }).to_string()},
        "associations": content.media.iter().enumerate().map(|(i, photo)| {
            let mut association = json!({
                "name": if photo.role == crate::domain::content::MediaRole::Main { "main".to_owned() } else { format!("inline-{i}") },
                "uri": format!("urn:syndicate:media:{}", photo.id),
                "type": "picture",
                "descriptions": [
                    {"role": "caption", "value": photo.caption},
                    {"role": "creditline", "value": photo.credit_line},
                ],
                "copyrightholder": photo.copyright_holder,
                // The IPTC/PLUS data-mining value, as the PLUS vocabulary's URI.
                "rightsinfo": {"langid": "http://ns.useplus.org/ldf/vocab/", "linkedrights": photo.data_mining.plus_uri()},
                "renditions": photo.renditions.iter().map(|r| json!({
                    "name": format!("{}x{}", r.width, r.height), "href": r.href,
                    "contenttype": r.mime_type, "width": r.width, "height": r.height,
                })).collect::<Vec<_>>(),
            });
            for (key, value) in [("by", &photo.creator), ("copyrightnotice", &photo.copyright_notice), ("usageterms", &photo.usage_terms)] {
                if let Some(value) = value {
                    association[key] = Value::String(value.clone());
                }
            }
            if let Some(licensor) = &photo.licensor {
                association["infosources"] = json!([{"name": licensor, "role": "licensor"}]);
            }
            association
        }).collect::<Vec<_>>(),
    });
    if let Some(first) = content.first_published_at {
        doc["firstcreated"] =
            Value::String(first.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    let descriptions: Vec<Value> = content
        .standfirst
        .iter()
        .map(|standfirst| json!({"role": "summary", "value": standfirst}))
        .chain(content.corrections.iter().map(|c| {
            let at = c
                .corrected_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            json!({
                "role": "correction", "contenttype": "text/plain",
                "value": format!("Corrected in version {} ({at}): {}", c.version, c.note),
            })
        }))
        .collect();
    if !descriptions.is_empty() {
        doc["descriptions"] = Value::Array(descriptions);
    }
    if let (Some(html), Some(text)) = (&content.body_html, &content.body_text) {
        doc["bodies"] = json!([
            {"role": "main", "contenttype": "text/html", "value": html, "wordcount": content.word_count},
            {"role": "plain", "contenttype": "text/plain", "value": text, "wordcount": content.word_count},
        ]);
    }
    let by: Vec<String> = content
        .bylines
        .iter()
        .map(|b| {
            [
                Some(b.name.as_str()),
                b.role.as_deref(),
                b.location.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
        })
        .collect();
    if !by.is_empty() {
        doc["by"] = Value::String(by.join("; "));
    }
    if let Some(located) = &content.located {
        doc["located"] = Value::String(located.clone());
    }
    if let Some(attribution) = &content.attribution {
        doc["usageterms"] = Value::String(format!("Attribution required: {}", attribution.text));
    }
    if let Some(url) = &content.canonical_url {
        doc["altids"] = json!([{"role": "canonical_url", "value": url}]);
    }
    if !content.media_withheld.is_empty() {
        let reasons: Vec<&str> = content
            .media_withheld
            .iter()
            .map(|w| match w.reason {
                WithheldReason::LicenceExcludesMedia => "licence_excludes_media",
                WithheldReason::SyndicationProhibited => "syndication_prohibited",
                WithheldReason::LicenseeNotAllowed => "licensee_not_allowed",
                WithheldReason::Territory => "territory",
                WithheldReason::Expired => "expired",
                WithheldReason::DataMining => "data_mining",
            })
            .collect();
        doc["ednote"] = Value::String(format!(
            "{} photo(s) withheld: {}",
            reasons.len(),
            reasons.join(", ")
        ));
    }
    doc
}
