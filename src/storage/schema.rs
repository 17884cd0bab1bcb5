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
    }
}

diesel::joinable!(api_clients -> publishers (publisher_id));
diesel::joinable!(api_clients -> licensees (licensee_id));
diesel::allow_tables_to_appear_in_same_query!(publishers, licensees, api_clients);
