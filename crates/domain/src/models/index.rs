//! What a search index kept beside the storage reads from it: each customer's searchable
//! fields as the storage compares them, and which customers changed since a feed position.

use chrono::{DateTime, Utc};

use super::FeedPosition;

/// The fields a search filters on, of one customer, in the form the storage's own search
/// compares them: text lower-cased by the storage (so an index matches exactly what the
/// storage would), places and language lower-cased, tags as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDocument {
    /// Database identity (`Customer::id`).
    pub id: i64,
    pub customer_id: String,
    /// `Customer::version`: a page read later is checked against it.
    pub version: u64,
    /// First name, last name, email, username, phone and company name, lower-cased and
    /// joined by U+001F (a missing phone or company is empty).
    pub text: String,
    pub has_phone: bool,
    pub has_company: bool,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub preferred_language: Option<String>,
    pub tags: Vec<String>,
    pub is_active: bool,
    pub is_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl SearchDocument {
    /// What joins the six columns of [`SearchDocument::text`].
    pub const SEPARATOR: char = '\u{1f}';
}

/// A change of one customer, recorded at a feed position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedCustomer {
    pub position: FeedPosition,
    pub customer_id: String,
    /// No change can appear before this one any more: a reader may move its mark past it.
    /// One that is not settled yet is read again by the next reader starting before it.
    pub settled: bool,
}

/// The changes after a position, or the news that some were purged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexChanges {
    /// In feed order: every settled change first, then the committed ones not yet settled.
    Changed(Vec<ChangedCustomer>),
    /// Changes after the position are gone (the history's retention): an index built from
    /// it must be built again.
    Purged,
}
