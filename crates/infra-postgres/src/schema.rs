//! The diesel schema of `migrations/` (what `diesel print-schema` would write).

diesel::table! {
    customers (id) {
        id -> Int8,
        customer_id -> Varchar,
        username -> Varchar,
        first_name -> Varchar,
        last_name -> Varchar,
        email -> Varchar,
        phone -> Nullable<Varchar>,
        address_line1 -> Nullable<Varchar>,
        address_line2 -> Nullable<Varchar>,
        city -> Nullable<Varchar>,
        state -> Nullable<Varchar>,
        postal_code -> Nullable<Varchar>,
        country -> Nullable<Varchar>,
        date_of_birth -> Nullable<Timestamp>,
        gender -> Nullable<Varchar>,
        company_name -> Nullable<Varchar>,
        tax_id -> Nullable<Varchar>,
        is_active -> Bool,
        is_verified -> Bool,
        email_verified -> Bool,
        phone_verified -> Bool,
        marketing_emails -> Bool,
        marketing_sms -> Bool,
        notes -> Nullable<Text>,
        tags -> Array<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_login_at -> Nullable<Timestamptz>,
        /// A BCP 47 tag in canonical case (the `preferred_language` migration).
        preferred_language -> Nullable<Text>,
        /// 1 when created, one more per change (the `versions_and_idempotency` migration's
        /// trigger keeps it).
        version -> Int8,
        /// Generated from the free-text query's columns (never written): see the
        /// `search_text` migration.
        search_text -> Text,
        /// When the customer was erased: then the row is a tombstone (the `erasure`
        /// migration), which the service never shows nor writes. (Its `erasure_reason` is
        /// read by name only: diesel's tables stop at 32 columns.)
        erased_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// Replay records of requests that carried an `Idempotency-Key`.
    idempotency_records (scope, key) {
        scope -> Text,
        key -> Text,
        fingerprint -> Bytea,
        status -> Int2,
        header_names -> Array<Text>,
        header_values -> Array<Text>,
        body -> Bytea,
        created_at -> Timestamptz,
        /// The customer the answer is about, which its erasure empties (the `erasure`
        /// migration).
        customer_id -> Nullable<Text>,
    }
}

diesel::define_sql_function! {
    /// Records who makes the statement's change and of which kind, for the history's
    /// triggers (the `customer_events` migration); always true, so it is used as a
    /// condition of the statement itself.
    fn customer_events_attribute(context: diesel::sql_types::Text) -> diesel::sql_types::Bool;
}

diesel::define_sql_function! {
    /// [`customer_events_attribute`] for an insert, which has no condition: returns 1, the
    /// version of a new customer.
    fn customer_events_attribute_new(context: diesel::sql_types::Text) -> diesel::sql_types::BigInt;
}
