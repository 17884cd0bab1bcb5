//! Demo mode (`serve --demo`): on an empty database, a small world written
//! for this project — two publishers, three licensees with different
//! licences (one an AI answer engine licensed for `ai-input` with
//! attribution), a dozen original articles with photos (one that forbids
//! generative training), credits, an embargo and a kill — and credentials
//! to try it with. Seeding is idempotent: a
//! second start finds the world and adds nothing.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::content::ContentError;
use crate::content::ingest::{CreateArticleRequest, Created, create_article};
use crate::content::lifecycle::{Reason, kill};
use crate::content::media::{MediaRequest, create_media};
use crate::domain::access::Tier;
use crate::domain::purpose::Purpose;
use crate::domain::{ArticleId, ClientId, FieldError, PublisherId, Role};
use crate::identity::clients::{self, CreateClientRequest};
use crate::identity::{Caller, IdentityError, Organisation};
use crate::licensing::LicensingError;
use crate::licensing::licences::{
    self, CreateLicenceRequest, Price, PurposeTerms, Quota, QuotaPeriod,
};
use crate::licensing::licensees::{self, CreateLicenseeRequest};
use crate::licensing::publishers::{self, CreatePublisherRequest};
use crate::storage::{DbConnection, StorageError, now, organisations};

/// Why the demo world or the seed dataset could not be written: what a
/// capability refused (the same checks the API makes), or storage.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// An article or photo was refused.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// A publisher, licensee or licence was refused.
    #[error(transparent)]
    Licensing(#[from] LicensingError),
    /// A client was refused.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The demo's own data did not read.
    #[error("the demo's data: {0}")]
    Data(String),
}

impl DemoError {
    /// The invalid fields, when a capability refused its input.
    pub fn invalid_fields(&self) -> Option<&[FieldError]> {
        match self {
            DemoError::Content(ContentError::Invalid(errors))
            | DemoError::Licensing(LicensingError::Invalid(errors))
            | DemoError::Identity(IdentityError::Invalid(errors)) => Some(errors),
            _ => None,
        }
    }
}

/// The slug whose presence means the demo world exists.
const MARKER_SLUG: &str = "harbour-gazette";

/// Credentials made for the demo, shown once.
#[derive(Debug, Clone)]
pub struct DemoCredentials {
    /// (client id, secret) of the admin client.
    pub admin: (String, String),
    /// (client id, secret) of the Harbour Gazette's desk.
    pub publisher: (String, String),
    /// (client id, secret) of Morning Brief's ingest.
    pub licensee: (String, String),
    /// An article Morning Brief may fetch.
    pub article_id: String,
    /// (client id, secret) of Lumen Answers' retrieval client, which may
    /// ask only for `use:ai-input` tokens.
    pub ai_licensee: (String, String),
    /// The live story whose photo forbids generative training.
    pub ai_article_id: String,
    /// The Harbour Gazette's id (its RSL document).
    pub publisher_id: String,
}

impl DemoCredentials {
    /// The message printed once, with copy-paste commands for `base_url`.
    pub fn message(&self, base_url: &str) -> String {
        let (id, secret) = &self.licensee;
        format!(
            "\nsyndicate demo: a small world is ready at {base_url} (docs: {base_url}/docs).\n\
             These secrets are shown once; store them now.\n\n\
             \x20 admin      client_id={}  client_secret={}\n\
             \x20 publisher  client_id={}  client_secret={}   (The Harbour Gazette)\n\
             \x20 licensee   client_id={}  client_secret={}   (Morning Brief: full text, photos, 50 a day)\n\n\
             Try, as the licensee:\n\
             \x20 TOKEN=$(curl -s -u '{id}:{secret}' -d grant_type=client_credentials {base_url}/v1/auth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')\n\
             \x20 curl -s -H \"Authorization: Bearer $TOKEN\" {base_url}/v1/content/{}\n\
             \x20 curl -s -H \"Authorization: Bearer $TOKEN\" \"{base_url}/v1/usage?group_by=article\"\n\n\
             As the AI licensee (Lumen Answers: ai-input at 0.40 GBP, attribution required):\n\
             \x20 ai-client  client_id={ai_id}  client_secret={ai_secret}\n\
             \x20 AI_TOKEN=$(curl -s -u '{ai_id}:{ai_secret}' -d grant_type=client_credentials -d scope=use:ai-input {base_url}/v1/auth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')\n\
             \x20 curl -si -H \"Authorization: Bearer $AI_TOKEN\" \"{base_url}/v1/content/{ai_article}?purpose=ai-input\"\n\
             \x20 curl -s -H \"Authorization: Bearer $AI_TOKEN\" {base_url}/v1/publishers/{publisher}/license.xml\n",
            self.admin.0,
            self.admin.1,
            self.publisher.0,
            self.publisher.1,
            id,
            secret,
            self.article_id,
            ai_id = self.ai_licensee.0,
            ai_secret = self.ai_licensee.1,
            ai_article = self.ai_article_id,
            publisher = self.publisher_id,
        )
    }
}

/// Seeds the demo world unless it is there already (`None` then).
pub fn seed(conn: &mut DbConnection) -> Result<Option<DemoCredentials>, DemoError> {
    let existing = organisations::list_publishers(
        conn,
        &crate::storage::page::PageRequest {
            after: None,
            limit: 100,
        },
    )?;
    if existing.items.iter().any(|p| p.slug == MARKER_SLUG) {
        return Ok(None);
    }
    crate::storage::in_transaction(conn, seed_world).map(Some)
}

pub(crate) fn client(
    conn: &mut DbConnection,
    name: &str,
    role: Role,
    organisation: Option<uuid::Uuid>,
) -> Result<(String, String), DemoError> {
    let created = clients::create(
        conn,
        &CreateClientRequest {
            name: name.to_owned(),
            role,
            organisation_id: organisation,
            purposes: None,
        },
    )?;
    Ok((created.client.client_id.to_string(), created.client_secret))
}

/// Creates a publisher as `POST /v1/publishers` does; returns its id.
pub(crate) fn publisher(
    conn: &mut DbConnection,
    name: &str,
    slug: Option<&str>,
) -> Result<uuid::Uuid, DemoError> {
    let request = CreatePublisherRequest {
        name: name.to_owned(),
        slug: slug.map(str::to_owned),
    };
    Ok(publishers::create(conn, &request)?.id.0)
}

/// Creates an active licensee as `POST /v1/licensees` does; returns its id.
pub(crate) fn licensee(
    conn: &mut DbConnection,
    name: &str,
    territories: &[&str],
) -> Result<uuid::Uuid, DemoError> {
    let request = CreateLicenseeRequest {
        name: name.to_owned(),
        territories: territories.iter().map(|&code| code.to_owned()).collect(),
        status: None,
    };
    Ok(licensees::create(conn, &request)?.id.0)
}

/// Grants a licence through the same workflow (and checks) as
/// `POST /v1/licences`: full text with photos, in force since 30 days ago,
/// unlimited and free unless `terms` says otherwise.
pub(crate) fn licence(
    conn: &mut DbConnection,
    licensee: uuid::Uuid,
    publisher: uuid::Uuid,
    terms: impl FnOnce(&mut CreateLicenceRequest),
) -> Result<String, DemoError> {
    let mut request = CreateLicenceRequest {
        licensee_id: licensee,
        publisher_id: publisher,
        sections: None,
        tier: Tier::Full,
        include_media: true,
        valid_from: (now() - Duration::days(30)).and_utc(),
        valid_until: None,
        quota: None,
        rate_limit_per_minute: None,
        price_per_unit: None,
        purposes: None,
        attribution_required: None,
        takedown_hours: None,
    };
    terms(&mut request);
    Ok(licences::create(conn, &request)?.id.to_string())
}

pub(crate) fn photo(
    conn: &mut DbConnection,
    desk: &Caller,
    body: Value,
) -> Result<String, DemoError> {
    let request: MediaRequest =
        serde_json::from_value(body).map_err(|e| DemoError::Data(e.to_string()))?;
    Ok(create_media(conn, desk, &request)?.id)
}

pub(crate) fn article(
    conn: &mut DbConnection,
    desk: &Caller,
    body: Value,
) -> Result<String, DemoError> {
    let request: CreateArticleRequest =
        serde_json::from_value(body).map_err(|e| DemoError::Data(e.to_string()))?;
    match create_article(conn, desk, &request)? {
        Created::New(row) | Created::Existing(row) => Ok(row.id),
    }
}

pub(crate) fn desk_of(publisher: uuid::Uuid, client_id: &str) -> Result<Caller, DemoError> {
    Ok(Caller {
        client_id: client_id
            .parse::<ClientId>()
            .map_err(|e| DemoError::Data(e.to_string()))?,
        role: Role::Publisher,
        organisation: Some(Organisation::Publisher(PublisherId(publisher))),
        purposes: Vec::new(),
    })
}

/// A price per unit in minor units of `currency`.
fn price(amount_minor: i64, currency: &str) -> Price {
    Price {
        amount_minor,
        currency: currency.to_owned(),
    }
}

/// Text of the demo stories: (external ref, section, headline, standfirst,
/// reporter, location, dateline, body paragraphs).
type Story = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

const STORIES: &[Story] = &[
    (
        "hg-demo-01",
        "environment",
        "Tidal barrier holds as storm surge reaches Portmere",
        "Engineers say the new gates kept the water out of three thousand homes.",
        "Amara Okafor",
        "in Portmere",
        "PORTMERE",
        &[
            "The tidal gates closed at ten past four in the morning, forty minutes before the surge peaked.",
            "Residents of the lower town, flooded twice in the last decade, woke to dry streets.",
        ],
    ),
    (
        "hg-demo-02",
        "business",
        "Harbour ferry fares frozen for another year",
        "The operator says commuter numbers are back above their old level.",
        "Tomas Reyes",
        "in Portmere",
        "PORTMERE",
        &[
            "Single fares across the estuary will stay at two pounds until next autumn.",
            "The ferry company credited a new timetable that matches the early shift at the shipyard.",
        ],
    ),
    (
        "hg-demo-03",
        "culture",
        "Night market returns to the old fish quay",
        "Forty stalls, a brass band and a queue for smoked mackerel.",
        "Lina Haddad",
        "on the fish quay",
        "PORTMERE",
        &[
            "The market, paused for repairs to the quay, reopened on Friday with more stalls than before.",
            "Organisers plan to run it on the first Friday of every month through the winter.",
        ],
    ),
    (
        "hg-demo-04",
        "sport",
        "Portmere rowing club wins coastal regatta",
        "A late surge on the final leg settles a close race.",
        "Owen Pryce",
        "at Carrick Sound",
        "CARRICK SOUND",
        &[
            "The coxed four crossed the line two seconds clear after trailing for most of the course.",
            "It is the club's first regatta win since it moved into its new boathouse.",
        ],
    ),
    (
        "hg-demo-05",
        "science",
        "Seagrass meadows recovering in the estuary, survey finds",
        "Divers mapped twice the area recorded five years ago.",
        "Amara Okafor",
        "in Portmere",
        "PORTMERE",
        &[
            "Volunteer divers and university researchers spent a month mapping the meadows at low tide.",
            "They link the recovery to cleaner run-off from farms upstream and fewer moorings in the shallows.",
        ],
    ),
    (
        "hg-demo-06",
        "local",
        "Council approves plan for harbour wall repairs",
        "Work on the western wall starts in the spring.",
        "Tomas Reyes",
        "at the town hall",
        "PORTMERE",
        &[
            "Councillors voted to fund the repairs from the flood defence budget.",
            "The western wall has lost stone along a stretch of about sixty metres since the last storms.",
        ],
    ),
    (
        "hg-demo-07",
        "culture",
        "Lighthouse keepers' logbooks go on public display",
        "Eighty years of weather, wrecks and visitors, in careful handwriting.",
        "Lina Haddad",
        "at the maritime museum",
        "PORTMERE",
        &[
            "The logbooks were found in a sea chest when the lighthouse was converted to automatic operation.",
            "The museum has digitised every page so visitors can search them by date.",
        ],
    ),
    (
        "hg-demo-08",
        "business",
        "Small boatyards report rise in electric outboard orders",
        "Fishermen cite fuel costs and quieter harbours.",
        "Owen Pryce",
        "in Portmere",
        "PORTMERE",
        &[
            "Three yards on the estuary say half of this year's outboard orders are electric.",
            "Charging points on the pontoons are now the bottleneck, the harbour master says.",
        ],
    ),
    (
        "hg-demo-09",
        "environment",
        "Volunteers count record number of grey seal pups",
        "The colony on the outer skerries has doubled in a decade.",
        "Amara Okafor",
        "on the outer skerries",
        "PORTMERE",
        &[
            "Counters logged more than two hundred pups during weekly boat surveys this season.",
            "Wardens ask visitors to keep their distance from the haul-out beaches until the new year.",
        ],
    ),
    (
        "hg-demo-10",
        "business",
        "Dredging contract awarded for the harbour channel",
        "The work is meant to keep the channel open for larger ferries.",
        "Tomas Reyes",
        "in Portmere",
        "PORTMERE",
        &[
            "The contract covers two seasons of dredging in the main channel.",
            "Figures for the volume to be removed are to be confirmed.",
        ],
    ),
    (
        "vc-demo-01",
        "business",
        "Hill farmers trial a shared tractor scheme",
        "Six farms split the cost of one machine and a booking calendar.",
        "Gwen Morgan",
        "in Afon Valley",
        "AFON VALLEY",
        &[
            "The farms take turns by the day, with a shared logbook kept in the village shop.",
            "If the trial works, the group hopes to add a baler next year.",
        ],
    ),
    (
        "vc-demo-02",
        "culture",
        "Village choir to sing at the national festival",
        "Thirty voices, one minibus and a month of rehearsals.",
        "Gwen Morgan",
        "in Afon Valley",
        "AFON VALLEY",
        &[
            "The choir qualified with a programme of folk songs arranged by its conductor.",
            "Rehearsals move to the chapel hall so the whole choir fits on one floor.",
        ],
    ),
];

fn seed_world(conn: &mut DbConnection) -> Result<DemoCredentials, DemoError> {
    let gazette = publisher(conn, "The Harbour Gazette", Some(MARKER_SLUG))?;
    let courier = publisher(conn, "Valley Courier", None)?;
    let brief = licensee(conn, "Morning Brief", &["GB", "IE"])?;
    let nordlys = licensee(conn, "Nordlys News", &["NO", "SE"])?;
    licence(conn, brief, gazette, |l| {
        l.quota = Some(Quota {
            units: 50,
            period: QuotaPeriod::Day,
        });
        l.rate_limit_per_minute = Some(120);
        l.price_per_unit = Some(price(25, "GBP"));
    })?;
    licence(conn, nordlys, gazette, |l| {
        l.tier = Tier::Preview;
        l.include_media = false;
        l.price_per_unit = Some(price(10, "EUR"));
    })?;
    licence(conn, brief, courier, |l| {
        l.tier = Tier::Preview;
        l.include_media = false;
    })?;
    // An AI answer engine: grounding answers in the Gazette's stories, paid
    // per article and credited.
    let lumen = licensee(conn, "Lumen Answers", &["GB"])?;
    licence(conn, lumen, gazette, |l| {
        l.purposes = Some(vec![PurposeTerms {
            purpose: Purpose::AiInput,
            price_per_unit: Some(price(40, "GBP")),
        }]);
        l.attribution_required = Some(true);
    })?;
    let admin = client(conn, "demo operator", Role::Admin, None)?;
    let publisher = client(conn, "Harbour Gazette desk", Role::Publisher, Some(gazette))?;
    let licensee = client(conn, "Morning Brief ingest", Role::Licensee, Some(brief))?;
    client(conn, "Nordlys News ingest", Role::Licensee, Some(nordlys))?;
    let courier_desk = client(conn, "Valley Courier desk", Role::Publisher, Some(courier))?;
    let ai_licensee = clients::create(
        conn,
        &CreateClientRequest {
            name: "Lumen Answers retrieval".to_owned(),
            role: Role::Licensee,
            organisation_id: Some(lumen),
            purposes: Some(vec![Purpose::AiInput]),
        },
    )?;
    let ai_licensee = (
        ai_licensee.client.client_id.to_string(),
        ai_licensee.client_secret,
    );
    let gazette_desk = desk_of(gazette, &publisher.0)?;
    let courier_desk = desk_of(courier, &courier_desk.0)?;

    let rendition = |name: &str| json!([{"href": format!("https://images.example.org/demo/{name}-1200.jpg"), "width": 1200, "height": 800, "mime_type": "image/jpeg"}]);
    let in_an_hour = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let photos = [
        photo(
            conn,
            &gazette_desk,
            json!({
            "caption": "The tidal gates at Portmere, closed against the surge at dawn.", "credit_line": "Photograph: Lena Varga/Northwire",
            "creator": "Lena Varga", "copyright_holder": "Northwire", "licensor": "Northwire", "renditions": rendition("gates"),
            "rights": {"syndication": "allowed", "usage_terms": "Editorial use only"}}),
        )?,
        photo(
            conn,
            &gazette_desk,
            json!({
            "caption": "The morning ferry leaves the north slip.", "credit_line": "Photograph: Harbour Gazette",
            "copyright_holder": "The Harbour Gazette", "renditions": rendition("ferry"),
            "rights": {"syndication": "allowed", "territories_denied": ["IE"], "usage_terms": "Not for use in Ireland"}}),
        )?,
        photo(
            conn,
            &gazette_desk,
            json!({
            "caption": "Stalls and lanterns on the old fish quay.", "credit_line": "Photograph: Sam Ortiz/Eastwire",
            "creator": "Sam Ortiz", "copyright_holder": "Eastwire", "licensor": "Eastwire", "renditions": rendition("market"),
            "rights": {"syndication": "allowed", "expires_at": in_an_hour, "usage_terms": "Editorial use only; rights end an hour after upload"}}),
        )?,
        photo(
            conn,
            &gazette_desk,
            json!({
            "caption": "A diver surveys seagrass in the estuary shallows.", "credit_line": "Photograph: Portmere Marine Survey",
            "copyright_holder": "Portmere Marine Survey", "renditions": rendition("seagrass"),
            "rights": {"syndication": "allowed", "usage_terms": "Credit must be shown; not for training generative AI",
                       "data_mining": "prohibited_gen_ai_ml_training"}}),
        )?,
    ];
    let mut first = String::new();
    let mut with_survey_photo = String::new();
    let embargo = (Utc::now() + Duration::minutes(5)).to_rfc3339();
    for (
        index,
        (reference, section, headline, standfirst, reporter, location, dateline, paragraphs),
    ) in STORIES.iter().enumerate()
    {
        let mut body = json!({
            "external_ref": reference, "headline": headline, "standfirst": standfirst,
            "body_html": paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect::<String>(),
            "section": section, "language": "en-GB",
            "bylines": [{"name": reporter, "role": "Reporter", "location": location}],
            "located": dateline, "status": "published",
            "canonical_url": format!("https://news.example.org/{section}/{reference}"),
        });
        match index {
            0 => {
                body["agency_credits"] = json!([{"agency": "Northwire", "role": "contributed", "credit_line": "Northwire contributed to this report", "redistribution": "allowed"}]);
                body["media"] = json!([{"media_id": photos[0], "role": "main"}]);
            }
            1 => body["media"] = json!([{"media_id": photos[1], "role": "main"}]),
            2 => body["media"] = json!([{"media_id": photos[2], "role": "main"}]),
            3 => {
                body["agency_credits"] = json!([{"agency": "Eastwire", "role": "source", "credit_line": "Eastwire", "redistribution": "preview_only"}])
            }
            4 => body["media"] = json!([{"media_id": photos[3], "role": "main"}]),
            8 => body["embargo_until"] = json!(embargo),
            _ => {}
        }
        let desk = if reference.starts_with("vc-") {
            &courier_desk
        } else {
            &gazette_desk
        };
        let id = article(conn, desk, body)?;
        if index == 0 {
            first = id.clone();
        }
        if index == 4 {
            with_survey_photo = id.clone();
        }
        if index == 9 {
            let id = id
                .parse::<ArticleId>()
                .map_err(|e| DemoError::Data(e.to_string()))?;
            let reason = Reason::parse("Legal: the contract figures were wrong; do not publish.")?;
            kill(conn, desk, id, None, reason)?;
        }
    }
    Ok(DemoCredentials {
        admin,
        publisher,
        licensee,
        article_id: first,
        ai_licensee,
        ai_article_id: with_survey_photo,
        publisher_id: gazette.to_string(),
    })
}
