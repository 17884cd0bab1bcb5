//! One licence in every machine-readable form: the RSL 1.0 document of a
//! publisher (`license.xml`), the TDMRep policy of a licence, and the
//! `Content-Usage` and `tdm-reservation` fields of a delivery. All are
//! made here, from the stored licences and the same purpose rules the
//! access decision applies (`LicenceFacts::permits`,
//! `access::licensed_purposes`, `DataMining::allows`), on every request:
//! nothing is written by hand and nothing is cached, so a licence change
//! shows in the next document.
//!
//! The mappings, and what a format cannot say:
//! - RSL has a usage term for every data-mining purpose (`search`,
//!   `ai-index`, `ai-input`, `ai-train`) and none for `display`; display is
//!   left to the licence the `<terms>` link names. Aggregates are written
//!   only where exact: `all` when a scope permits no data mining at all,
//!   `ai-all` when it permits search but no AI use.
//! - RSL allows one `<payment>` per `<license>`, so a licence gets one
//!   `<license>` per price among its purposes. We bill each delivery, which
//!   is RSL's `crawl`; an unpriced licence that requires attribution says
//!   `attribution`. A priced licence that requires attribution cannot say
//!   both in RSL: the licence JSON (`<terms>`) and the TDMRep duty do.
//! - TDMRep has no purpose vocabulary beyond research / non-research, so
//!   the purpose constraint names the RSL usage terms as IRIs, the RSL
//!   namespace plus `#` and the term (`https://rslstandard.org/rsl#ai-input`).
//! - aipref (vocab-07) has `train-ai` and `search` only; `ai-index` and
//!   `ai-input` have no category and are left unsaid.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde_json::{Value, json};

use super::LicensingError;
use super::licences::find_visible;
use crate::domain::access::LicenceFacts;
use crate::domain::licence::Price;
use crate::domain::purpose::{DataMining, Purpose};
use crate::domain::{LicenceId, PublisherId, Role};
use crate::identity::Caller;
use crate::storage::licences::{self, LicenceRow};
use crate::storage::{DbConnection, StorageError, articles, facts, media, organisations};

/// The RSL 1.0 XML namespace.
pub const RSL_NAMESPACE: &str = "https://rslstandard.org/rsl";

/// The media type of an RSL document.
pub const RSL_MEDIA_TYPE: &str = "application/rsl+xml";

/// The media type of a TDMRep policy.
pub const TDM_POLICY_MEDIA_TYPE: &str = "application/ld+json";

/// Where the documents live: absolute URLs on one origin (the request's
/// scheme and host).
#[derive(Debug, Clone)]
pub struct Urls {
    origin: String,
}

impl Urls {
    /// URLs on `origin` (`https://api.example.com`, no trailing slash).
    pub fn new(origin: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
        }
    }

    /// A publisher's RSL document.
    pub fn licence_document(&self, publisher: &str) -> String {
        format!("{}/v1/publishers/{publisher}/license.xml", self.origin)
    }

    /// The licensed content of a publisher, or of one of its sections: the
    /// content list narrowed to it.
    pub fn content(&self, publisher: &str, section: Option<&str>) -> String {
        let mut url = format!("{}/v1/content?publisher_id={publisher}", self.origin);
        if let Some(section) = section {
            url.push_str("&section=");
            url.extend(url::form_urlencoded::byte_serialize(section.as_bytes()));
        }
        url
    }

    /// A licence's JSON.
    pub fn licence(&self, id: &str) -> String {
        format!("{}/v1/licences/{id}", self.origin)
    }

    /// The licences on a publisher's content the caller may see.
    pub fn licences_of(&self, publisher: &str) -> String {
        format!("{}/v1/licences?publisher_id={publisher}", self.origin)
    }

    /// A licence's TDMRep policy.
    pub fn tdm_policy(&self, id: &str) -> String {
        format!("{}/v1/licences/{id}/tdm-policy.json", self.origin)
    }

    /// A publisher.
    pub fn publisher(&self, id: &str) -> String {
        format!("{}/v1/publishers/{id}", self.origin)
    }
}

/// What the documents need of a licence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceTerms {
    /// Its id.
    pub id: String,
    /// The sections it covers; `None` is all.
    pub sections: Option<Vec<String>>,
    /// The purposes it permits, in order, each at its price (its own or
    /// the licence's; `None` when it has none).
    pub purposes: Vec<(Purpose, Option<Price>)>,
    /// Whether deliveries under it must carry the attribution.
    pub attribution_required: bool,
}

impl LicenceTerms {
    /// The terms of a stored licence.
    pub fn of(row: &LicenceRow) -> Result<Self, StorageError> {
        let mut purposes = Vec::new();
        for terms in row.purposes()? {
            purposes.push((terms.purpose, row.price_for(terms.purpose)?));
        }
        purposes.sort_by_key(|(purpose, _)| *purpose);
        Ok(Self {
            id: row.id.clone(),
            sections: row.sections()?,
            purposes,
            attribution_required: row.attribution_required,
        })
    }

    /// Whether it covers `section` (`None`: every section, which only a
    /// licence of all sections does).
    fn covers(&self, section: Option<&str>) -> bool {
        match (&self.sections, section) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(list), Some(section)) => list.iter().any(|s| s == section),
        }
    }

    /// Its data-mining purposes, grouped by price (a zero price is none),
    /// each group in order, the groups in the order of their first purpose.
    fn priced_groups(&self) -> Vec<(Option<&Price>, Vec<Purpose>)> {
        let mut groups: Vec<(Option<&Price>, Vec<Purpose>)> = Vec::new();
        for (purpose, price) in &self.purposes {
            if !purpose.is_data_mining() {
                continue;
            }
            let price = price.as_ref().filter(|p| p.amount_minor > 0);
            match groups.iter_mut().find(|(p, _)| *p == price) {
                Some((_, purposes)) => purposes.push(*purpose),
                None => groups.push((price, vec![*purpose])),
            }
        }
        groups
    }
}

/// A photo whose data-mining value forbids some purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoTerms {
    /// Its renditions' URLs.
    pub hrefs: Vec<String>,
    /// Its data-mining value.
    pub data_mining: DataMining,
}

/// The publisher a document is about.
#[derive(Debug, Clone)]
pub struct Publisher {
    /// Its id.
    pub id: String,
    /// Its name, in any script.
    pub name: String,
}

/// The RSL usage terms for `purposes` that are data mining.
fn usage_terms(purposes: &[Purpose]) -> Vec<&'static str> {
    purposes
        .iter()
        .filter(|p| p.is_data_mining())
        .map(Purpose::as_str)
        .collect()
}

/// The RSL usage terms prohibited when only `permitted` is licensed: `all`
/// when no data mining is, `ai-all` when only search is (both exact, since
/// they stand for what this service never licenses besides), else each
/// data-mining purpose not permitted.
pub fn prohibited_terms(permitted: &[Purpose]) -> Vec<&'static str> {
    let mining: Vec<Purpose> = permitted
        .iter()
        .copied()
        .filter(Purpose::is_data_mining)
        .collect();
    if mining.is_empty() {
        return vec!["all"];
    }
    if mining == [Purpose::Search] {
        return vec!["ai-all"];
    }
    let missing: Vec<Purpose> = Purpose::MINING
        .into_iter()
        .filter(|p| !mining.contains(p))
        .collect();
    usage_terms(&missing)
}

/// A price in major units with the currency's ISO 4217 decimals: 40 GBP
/// minor units are `0.40`, 500 JPY are `500`, 1500 KWD fils are `1.500`.
pub fn major_units(price: &Price) -> String {
    let decimals = match price.currency.as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    };
    if decimals == 0 {
        return price.amount_minor.to_string();
    }
    let scale = 10_i64.pow(decimals);
    format!(
        "{}.{:0width$}",
        price.amount_minor / scale,
        price.amount_minor % scale,
        width = decimals as usize
    )
}

/// The scopes a set of licences speaks of: every section (always, so that
/// what no licence covers is said to be unlicensed), then each section a
/// licence names, in order.
fn scopes(licences: &[LicenceTerms]) -> Vec<Option<String>> {
    let named: BTreeSet<&String> = licences
        .iter()
        .filter_map(|l| l.sections.as_ref())
        .flatten()
        .collect();
    std::iter::once(None)
        .chain(named.into_iter().map(|s| Some(s.clone())))
        .collect()
}

/// Writes an element with text content.
fn text_element<W: std::io::Write>(
    writer: &mut Writer<W>,
    name: &str,
    attributes: &[(&str, &str)],
    text: &str,
) -> std::io::Result<()> {
    writer
        .create_element(name)
        .with_attributes(attributes.iter().copied())
        .write_text_content(BytesText::new(text))?;
    Ok(())
}

/// One `<license>`: what it permits and prohibits, and its payment.
fn license<W: std::io::Write>(
    writer: &mut Writer<W>,
    permits: &[Purpose],
    prohibits: &[&str],
    payment: Option<(&str, Option<&Price>)>,
) -> std::io::Result<()> {
    writer.create_element("license").write_inner_content(|w| {
        if !permits.is_empty() {
            text_element(
                w,
                "permits",
                &[("type", "usage")],
                &usage_terms(permits).join(" "),
            )?;
        }
        if !prohibits.is_empty() {
            text_element(w, "prohibits", &[("type", "usage")], &prohibits.join(" "))?;
        }
        match payment {
            None => {}
            Some((kind, None)) => {
                w.create_element("payment")
                    .with_attribute(("type", kind))
                    .write_empty()?;
            }
            Some((kind, Some(price))) => {
                w.create_element("payment")
                    .with_attribute(("type", kind))
                    .write_inner_content(|w| {
                        text_element(
                            w,
                            "amount",
                            &[("currency", price.currency.as_str())],
                            &major_units(price),
                        )
                    })?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// The RSL 1.0 document of `publisher` for `licences` (those in force the
/// reader may see) and the publisher's `photos` that data-mining rights
/// restrict.
///
/// One `<content>` per scope: the publisher's content as a whole, and each
/// section a licence names (a section inherits the licences of every
/// section, so the most specific `<content>` that matches says all that is
/// licensed there). In each, one `<license>` per licence and price with
/// `<permits type="usage">` the purposes at that price and
/// `<prohibits type="usage">` what no licence of the scope permits; then
/// the publisher as `<copyright>` and the licence JSON as `<terms>`. Each
/// photo rendition gets its own `<content>` prohibiting exactly the
/// purposes its data-mining value forbids.
pub fn rsl(
    publisher: &Publisher,
    licences: &[LicenceTerms],
    photos: &[PhotoTerms],
    urls: &Urls,
) -> std::io::Result<Vec<u8>> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer
        .create_element("rsl")
        .with_attribute(("xmlns", RSL_NAMESPACE))
        .write_inner_content(|w| {
            for scope in scopes(licences) {
                let applicable: Vec<&LicenceTerms> = licences
                    .iter()
                    .filter(|l| l.covers(scope.as_deref()))
                    .collect();
                let mut permitted: Vec<Purpose> = applicable
                    .iter()
                    .flat_map(|l| l.purposes.iter().map(|(p, _)| *p))
                    .collect();
                permitted.sort();
                permitted.dedup();
                let prohibits = prohibited_terms(&permitted);
                let url = urls.content(&publisher.id, scope.as_deref());
                w.create_element("content")
                    .with_attribute(("url", url.as_str()))
                    .write_inner_content(|w| {
                        let mut written = false;
                        for licence in &applicable {
                            for (price, purposes) in licence.priced_groups() {
                                let payment = match price {
                                    Some(price) => Some(("crawl", Some(price))),
                                    None if licence.attribution_required => {
                                        Some(("attribution", None))
                                    }
                                    None => None,
                                };
                                license(w, &purposes, &prohibits, payment)?;
                                written = true;
                            }
                        }
                        if !written {
                            license(w, &[], &prohibits, None)?;
                        }
                        text_element(w, "copyright", &[("type", "organization")], &publisher.name)?;
                        let terms = match applicable.as_slice() {
                            [one] => urls.licence(&one.id),
                            _ => urls.licences_of(&publisher.id),
                        };
                        text_element(w, "terms", &[], &terms)
                    })?;
            }
            for photo in photos {
                let forbidden: Vec<Purpose> = Purpose::MINING
                    .into_iter()
                    .filter(|p| !photo.data_mining.allows(*p))
                    .collect();
                if forbidden.is_empty() {
                    continue;
                }
                let terms = usage_terms(&forbidden);
                for href in &photo.hrefs {
                    w.create_element("content")
                        .with_attribute(("url", href.as_str()))
                        .write_inner_content(|w| license(w, &[], &terms, None))?;
                }
            }
            Ok(())
        })?;
    let mut body = writer.into_inner();
    body.push(b'\n');
    Ok(body)
}

/// The IRI a TDMRep purpose constraint names a purpose by: its RSL usage
/// term in the RSL namespace.
pub fn purpose_iri(purpose: Purpose) -> String {
    format!("{RSL_NAMESPACE}#{}", purpose.as_str())
}

/// A licence's TDMRep policy: an ODRL Offer in the TDMRep profile, the
/// publisher as assigner, and one `tdm:mine` permission per scope (all the
/// publisher's content, or each section) and price, constrained to the
/// purposes at that price, with a `compensate` duty when they are priced
/// and an `attribute` duty when the licence requires attribution. A
/// licence of `display` alone offers no permission.
pub fn tdm_policy(publisher: &Publisher, licence: &LicenceTerms, urls: &Urls) -> Value {
    let targets: Vec<String> = match &licence.sections {
        None => vec![urls.content(&publisher.id, None)],
        Some(sections) => sections
            .iter()
            .map(|s| urls.content(&publisher.id, Some(s)))
            .collect(),
    };
    let mut permissions = Vec::new();
    for target in &targets {
        for (price, purposes) in licence.priced_groups() {
            let mut duties = Vec::new();
            if price.is_some() {
                duties.push(json!({"action": "compensate"}));
            }
            if licence.attribution_required {
                duties.push(json!({"action": "attribute"}));
            }
            let iris: Vec<String> = purposes.iter().map(|p| purpose_iri(*p)).collect();
            let mut permission = json!({
                "target": target,
                "action": "tdm:mine",
                "constraint": [{"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": iris}],
            });
            if !duties.is_empty() {
                permission["duty"] = Value::Array(duties);
            }
            permissions.push(permission);
        }
    }
    json!({
        "@context": ["http://www.w3.org/ns/odrl.jsonld", "http://www.w3.org/ns/tdmrep.jsonld"],
        "@type": "Offer",
        "profile": "http://www.w3.org/ns/tdmrep",
        "uid": urls.tdm_policy(&licence.id),
        "assigner": {
            "uid": urls.publisher(&publisher.id),
            "vcard:fn": publisher.name,
            "vcard:hasURL": urls.licence(&licence.id),
        },
        "permission": permissions,
    })
}

/// The `tdm-reservation` value of a delivery: `0` (not reserved) only when
/// the licences permit every data-mining purpose, else `1`.
pub fn tdm_reservation(licensed: &[Purpose]) -> u8 {
    u8::from(!Purpose::MINING.iter().all(|p| licensed.contains(p)))
}

/// The `Content-Usage` value of a delivery (aipref vocab-07, an RFC 9651
/// dictionary): `train-ai` from `ai-train`, `search` from `search`.
pub fn content_usage(licensed: &[Purpose]) -> String {
    let yes_no = |p: Purpose| if licensed.contains(&p) { "y" } else { "n" };
    format!(
        "train-ai={}, search={}",
        yes_no(Purpose::AiTrain),
        yes_no(Purpose::Search)
    )
}

/// The licences of `publisher` a caller reads in its RSL document, in
/// force at `at`: every one on the publisher's content for an admin or the
/// publisher itself; a licensee's own. Anyone else, a licensee without one
/// in force, or an unknown publisher: not found.
fn readable_licences(
    conn: &mut DbConnection,
    caller: &Caller,
    publisher: &str,
    at: NaiveDateTime,
) -> Result<Vec<(LicenceRow, LicenceFacts)>, LicensingError> {
    let not_found = || LicensingError::NotFound("no such publisher".to_owned());
    let rows = match caller.role {
        Role::Admin => licences::of_publisher(conn, publisher)?,
        Role::Publisher
            if caller
                .publisher_id()
                .is_some_and(|p| p.to_string() == publisher) =>
        {
            licences::of_publisher(conn, publisher)?
        }
        Role::Publisher => return Err(not_found()),
        Role::Licensee => {
            let licensee = caller.licensee_id().ok_or_else(not_found)?;
            licences::of_licensee(conn, &licensee.to_string())?
                .into_iter()
                .filter(|row| row.publisher_id == publisher)
                .collect()
        }
    };
    let mut in_force = Vec::new();
    for row in rows {
        let facts = facts::licence(&row)?;
        if facts.in_force(at) {
            in_force.push((row, facts));
        }
    }
    if caller.role == Role::Licensee && in_force.is_empty() {
        return Err(not_found());
    }
    Ok(in_force)
}

/// A publisher's RSL document as `caller` may read it at `at` (see
/// [`rsl`]; who reads what: [`readable_licences`]). The photos are those
/// whose data-mining value forbids a purpose and that are in a published
/// article the reader could receive (past its embargo and in a section
/// its licences cover, for a licensee).
pub fn licence_document(
    conn: &mut DbConnection,
    caller: &Caller,
    publisher: PublisherId,
    urls: &Urls,
    at: NaiveDateTime,
) -> Result<Vec<u8>, LicensingError> {
    let id = publisher.to_string();
    let row = match organisations::find_publisher(conn, &id) {
        Err(StorageError::NotFound) => {
            return Err(LicensingError::NotFound("no such publisher".to_owned()));
        }
        other => other?,
    };
    let readable = readable_licences(conn, caller, &id, at)?;
    let licensee = caller.role == Role::Licensee;
    let mut shown = BTreeSet::new();
    for (section, embargo, refs) in articles::published_media(conn, &id)? {
        let visible = !licensee
            || (embargo.is_none_or(|until| until <= at)
                && readable.iter().any(|(_, l)| l.covers(publisher, &section)));
        if visible {
            shown.extend(refs.into_iter().map(|r| r.media_id.to_string()));
        }
    }
    let open = [
        DataMining::Unspecified.as_str(),
        DataMining::Allowed.as_str(),
    ];
    let mut photos = Vec::new();
    for photo in media::mining_restricted(conn, &id, &open)? {
        if shown.contains(&photo.id) {
            photos.push(PhotoTerms {
                hrefs: photo.renditions()?.into_iter().map(|r| r.href).collect(),
                data_mining: photo.data_mining()?,
            });
        }
    }
    let licences = readable
        .iter()
        .map(|(row, _)| LicenceTerms::of(row))
        .collect::<Result<Vec<_>, _>>()?;
    let publisher = Publisher { id, name: row.name };
    rsl(&publisher, &licences, &photos, urls)
        .map_err(|e| LicensingError::Storage(StorageError::Other(Box::new(e))))
}

/// A licence's TDMRep policy, for the callers who may see the licence
/// (admins, its licensee, its publisher; others: not found).
pub fn licence_policy(
    conn: &mut DbConnection,
    caller: &Caller,
    id: LicenceId,
    urls: &Urls,
) -> Result<Value, LicensingError> {
    let row = find_visible(conn, caller, id)?;
    let publisher = organisations::find_publisher(conn, &row.publisher_id)?;
    let publisher = Publisher {
        id: publisher.id,
        name: publisher.name,
    };
    Ok(tdm_policy(&publisher, &LicenceTerms::of(&row)?, urls))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbp(amount_minor: i64) -> Option<Price> {
        Some(Price {
            amount_minor,
            currency: "GBP".to_owned(),
        })
    }

    #[test]
    fn aggregates_are_written_only_where_they_are_exact() {
        use Purpose::*;
        assert_eq!(prohibited_terms(&[]), ["all"]);
        assert_eq!(prohibited_terms(&[Display]), ["all"]);
        assert_eq!(prohibited_terms(&[Display, Search]), ["ai-all"]);
        assert_eq!(
            prohibited_terms(&[AiInput]),
            ["search", "ai-index", "ai-train"]
        );
        assert_eq!(
            prohibited_terms(&[Search, AiIndex, AiInput, AiTrain]),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn amounts_are_in_major_units_with_the_currencys_decimals() {
        let price = |amount_minor, currency: &str| Price {
            amount_minor,
            currency: currency.to_owned(),
        };
        assert_eq!(major_units(&price(40, "GBP")), "0.40");
        assert_eq!(major_units(&price(123_456, "EUR")), "1234.56");
        assert_eq!(major_units(&price(500, "JPY")), "500");
        assert_eq!(major_units(&price(1_500, "KWD")), "1.500");
        assert_eq!(major_units(&price(0, "USD")), "0.00");
    }

    #[test]
    fn headers_follow_the_licensed_purposes() {
        use Purpose::*;
        assert_eq!(content_usage(&[Display]), "train-ai=n, search=n");
        assert_eq!(content_usage(&[Search, AiTrain]), "train-ai=y, search=y");
        assert_eq!(tdm_reservation(&[Display, Search, AiIndex, AiInput]), 1);
        assert_eq!(tdm_reservation(&[Search, AiIndex, AiInput, AiTrain]), 0);
    }

    #[test]
    fn names_and_urls_are_escaped_in_the_document() {
        let publisher = Publisher {
            id: "p1".to_owned(),
            name: "新华社 & <Partners>".to_owned(),
        };
        let licence = LicenceTerms {
            id: "l1".to_owned(),
            sections: Some(vec!["arts & culture".to_owned()]),
            purposes: vec![
                (Purpose::Display, gbp(25)),
                (Purpose::Search, None),
                (Purpose::AiInput, gbp(40)),
                (Purpose::AiTrain, gbp(40)),
            ],
            attribution_required: true,
        };
        let photos = [PhotoTerms {
            hrefs: vec!["https://img.example/a.jpg?x=1&y=2".to_owned()],
            data_mining: DataMining::ProhibitedAiMlTraining,
        }];
        let body = rsl(
            &publisher,
            std::slice::from_ref(&licence),
            &photos,
            &Urls::new("http://h"),
        )
        .unwrap();
        let text = String::from_utf8(body).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().namespace(), Some(RSL_NAMESPACE));
        let contents: Vec<&str> = root
            .children()
            .filter(|n| n.has_tag_name("content"))
            .map(|n| n.attribute("url").unwrap())
            .collect();
        assert_eq!(
            contents,
            [
                "http://h/v1/content?publisher_id=p1",
                "http://h/v1/content?publisher_id=p1&section=arts+%26+culture",
                "https://img.example/a.jpg?x=1&y=2",
            ]
        );
        let copyright = doc
            .descendants()
            .find(|n| n.has_tag_name("copyright"))
            .unwrap();
        assert_eq!(copyright.text(), Some("新华社 & <Partners>"));
        // The section: search unpriced with attribution, the AI uses at 0.40.
        let section = root.children().filter(|n| n.is_element()).nth(1).unwrap();
        let licences: Vec<(String, String, String)> = section
            .children()
            .filter(|n| n.has_tag_name("license"))
            .map(|l| {
                let child = |name: &str| {
                    l.children()
                        .find(|n| n.has_tag_name(name))
                        .map(|n| {
                            format!(
                                "{}{}",
                                n.attribute("type").unwrap_or(""),
                                n.text()
                                    .map(str::trim)
                                    .filter(|t| !t.is_empty())
                                    .map(|t| format!(":{t}"))
                                    .unwrap_or_default()
                            )
                        })
                        .unwrap_or_default()
                };
                (child("permits"), child("prohibits"), child("payment"))
            })
            .collect();
        assert_eq!(
            licences,
            [
                (
                    "usage:search".to_owned(),
                    "usage:ai-index".to_owned(),
                    "attribution".to_owned()
                ),
                (
                    "usage:ai-input ai-train".to_owned(),
                    "usage:ai-index".to_owned(),
                    "crawl".to_owned()
                ),
            ]
        );
        assert!(
            text.contains(r#"<amount currency="GBP">0.40</amount>"#),
            "{text}"
        );
    }
}
