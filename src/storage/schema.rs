//! The table definitions shared by both backends. Written by hand: both
//! migration trees create the same tables and columns with portable types
//! (TEXT ids, UTC timestamps without zone).

diesel::table! {
    publishers (id) {
        id -> Text,
        name -> Text,
        slug -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    licensees (id) {
        id -> Text,
        name -> Text,
        status -> Text,
        territories -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        publisher_id -> Nullable<Text>,
        licensee_id -> Nullable<Text>,
        secret_hash -> Text,
        created_at -> Timestamp,
        secret_rotated_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        purposes -> Nullable<Text>,
    }
}

diesel::joinable!(api_clients -> publishers (publisher_id));
diesel::joinable!(api_clients -> licensees (licensee_id));

diesel::table! {
    media (id) {
        id -> Text,
        publisher_id -> Text,
        caption -> Text,
        credit_line -> Text,
        creator -> Nullable<Text>,
        copyright_holder -> Text,
        copyright_notice -> Nullable<Text>,
        licensor -> Nullable<Text>,
        renditions -> Text,
        syndication -> Text,
        rights_licensees -> Nullable<Text>,
        territories_allowed -> Nullable<Text>,
        territories_denied -> Nullable<Text>,
        rights_expires_at -> Nullable<Timestamp>,
        usage_terms -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        data_mining -> Text,
    }
}

diesel::table! {
    articles (id) {
        id -> Text,
        publisher_id -> Text,
        external_ref -> Text,
        version -> Integer,
        status -> Text,
        headline -> Text,
        standfirst -> Nullable<Text>,
        body_html -> Text,
        body_text -> Text,
        word_count -> Integer,
        section -> Text,
        tags -> Text,
        language -> Text,
        bylines -> Text,
        located -> Nullable<Text>,
        canonical_url -> Nullable<Text>,
        embargo_until -> Nullable<Timestamp>,
        agency_credits -> Text,
        media -> Text,
        related -> Text,
        content_hash -> Text,
        status_reason -> Nullable<Text>,
        redistribution -> Text,
        first_published_at -> Nullable<Timestamp>,
        killed_at -> Nullable<Timestamp>,
        version_created_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    article_versions (article_id, version) {
        article_id -> Text,
        version -> Integer,
        change_kind -> Text,
        change_note -> Nullable<Text>,
        status -> Text,
        snapshot -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    content_events (seq) {
        seq -> BigInt,
        article_id -> Text,
        publisher_id -> Text,
        version -> Integer,
        kind -> Text,
        status -> Text,
        section -> Text,
        visible_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    licences (id) {
        id -> Text,
        licensee_id -> Text,
        publisher_id -> Text,
        sections -> Nullable<Text>,
        tier -> Text,
        include_media -> Bool,
        valid_from -> Timestamp,
        valid_until -> Nullable<Timestamp>,
        quota_units -> Nullable<BigInt>,
        quota_period -> Nullable<Text>,
        rate_limit_per_minute -> Nullable<Integer>,
        price_amount_minor -> Nullable<BigInt>,
        price_currency -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        purposes -> Text,
        attribution_required -> Bool,
        takedown_hours -> Integer,
    }
}

diesel::table! {
    usage_events (id) {
        id -> Text,
        licensee_id -> Text,
        licence_id -> Text,
        publisher_id -> Text,
        article_id -> Text,
        article_version -> Integer,
        tier -> Text,
        format -> Text,
        at -> Timestamp,
        day -> Text,
        period_start -> Timestamp,
        request_id -> Text,
        billable -> Bool,
        unit_price -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        purpose -> Text,
        attribution -> Nullable<Text>,
    }
}

diesel::table! {
    billed_deliveries (licence_id, article_id, period_start, purpose) {
        licence_id -> Text,
        article_id -> Text,
        period_start -> Timestamp,
        purpose -> Text,
    }
}

diesel::table! {
    quota_usage (licence_id, period_start) {
        licence_id -> Text,
        period_start -> Timestamp,
        used -> BigInt,
    }
}

diesel::table! {
    quota_leases (node_id, licence_id, period_start) {
        node_id -> Text,
        licence_id -> Text,
        period_start -> Timestamp,
        units -> BigInt,
    }
}

diesel::table! {
    ledger_nodes (node_id) {
        node_id -> Text,
        shipped_through -> Timestamp,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    usage_daily (licensee_id, licence_id, publisher_id, day, currency, purpose) {
        licensee_id -> Text,
        licence_id -> Text,
        publisher_id -> Text,
        day -> Text,
        currency -> Text,
        purpose -> Text,
        deliveries -> BigInt,
        billable_units -> BigInt,
        amount_minor -> BigInt,
    }
}

diesel::table! {
    article_receipts (article_id, licensee_id, day) {
        article_id -> Text,
        licensee_id -> Text,
        day -> Text,
        deliveries -> BigInt,
        first_at -> Timestamp,
        last_at -> Timestamp,
        last_licence_id -> Text,
    }
}

diesel::table! {
    change_counter (id) {
        id -> Integer,
        value -> BigInt,
    }
}

diesel::table! {
    /// One row per item a change touched (see `storage::changes`). The
    /// table has no key: a change that moves an item logs two rows under
    /// one value; diesel is told these three columns are one.
    change_log (seq, kind, item) {
        seq -> BigInt,
        kind -> Text,
        item -> Text,
        at -> Timestamp,
    }
}

diesel::joinable!(licences -> licensees (licensee_id));
diesel::joinable!(licences -> publishers (publisher_id));
diesel::joinable!(media -> publishers (publisher_id));
diesel::joinable!(articles -> publishers (publisher_id));
diesel::joinable!(article_versions -> articles (article_id));
diesel::joinable!(content_events -> articles (article_id));
diesel::allow_tables_to_appear_in_same_query!(
    publishers,
    licensees,
    api_clients,
    media,
    articles,
    article_versions,
    content_events,
    licences,
    usage_events,
    billed_deliveries,
    quota_usage,
    change_counter,
    change_log,
    usage_daily,
    quota_leases,
    ledger_nodes,
);

diesel::table! {
    /// Licensees' webhook endpoints.
    webhook_endpoints (id) {
        id -> Text,
        licensee_id -> Text,
        url -> Text,
        event_types -> Text,
        active -> Bool,
        consecutive_failures -> Integer,
        failing -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// The outbox: one event per content change that licensees hear of.
    webhook_events (id) {
        id -> Text,
        event_type -> Text,
        article_id -> Text,
        publisher_id -> Text,
        version -> Integer,
        payload -> Text,
        visible_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// One event to one endpoint, until delivered or given up.
    webhook_deliveries (id) {
        id -> Text,
        event_id -> Text,
        endpoint_id -> Text,
        licensee_id -> Text,
        article_id -> Text,
        version -> Integer,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Every attempt to deliver.
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        attempted_at -> Timestamp,
        latency_ms -> BigInt,
        outcome -> Text,
        response_status -> Nullable<Integer>,
        response_excerpt -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    /// A kill, told to one licensee that received the article.
    takedown_notices (id) {
        id -> Text,
        kind -> Text,
        article_id -> Text,
        media_id -> Nullable<Text>,
        publisher_id -> Text,
        licensee_id -> Text,
        event_id -> Text,
        reason -> Nullable<Text>,
        killed_at -> Timestamp,
        deliveries -> BigInt,
        last_delivered_at -> Timestamp,
        deadline_at -> Timestamp,
        created_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        removed_at -> Nullable<Timestamp>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    /// Ends of photos' rights already acted on.
    rights_endings (media_id, ends_at) {
        media_id -> Text,
        ends_at -> Timestamp,
        fired_at -> Timestamp,
    }
}

diesel::table! {
    /// An end of a photo's rights in one live story, with the story's event.
    rights_ended_stories (media_id, ends_at, article_id) {
        media_id -> Text,
        ends_at -> Timestamp,
        article_id -> Text,
        event_id -> Text,
        withheld_from -> Timestamp,
    }
}

diesel::table! {
    /// Ends of licences already announced.
    licence_endings (licence_id, ends_at) {
        licence_id -> Text,
        ends_at -> Timestamp,
        fired_at -> Timestamp,
    }
}

diesel::table! {
    /// Fetches of a killed article (answered 410).
    killed_fetches (id) {
        id -> Text,
        article_id -> Text,
        licensee_id -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    /// Scheduled events (a photo's rights ended, a licence ending) as each
    /// licensee that hears of them reads them in its feed.
    scheduled_feed_events (seq) {
        seq -> BigInt,
        licensee_id -> Text,
        kind -> Text,
        article_id -> Nullable<Text>,
        version -> Nullable<Integer>,
        media_id -> Nullable<Text>,
        licence_id -> Nullable<Text>,
        ends_at -> Timestamp,
        event_id -> Text,
        visible_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    webhook_endpoints,
    webhook_events,
    webhook_deliveries,
    webhook_attempts,
);
