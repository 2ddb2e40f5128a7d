//! The types of the customer domain.

mod customer;
mod erasure;
mod history;
mod index;
mod input;
mod query;
pub(crate) mod rules;
mod stats;
mod values;
mod version;

pub use customer::Customer;
pub use erasure::{CustomerExport, ErasureReason, ExportedRequest, Tombstone, requests_of};
pub use history::{
    CustomerEvent, EventKind, FeedPage, FeedPosition, FeedQuery, FeedRead, FieldChange, FieldValue,
    Provenance, ReadAffinity, RequestContext, Timeline, TimelineQuery, UnknownEventKind,
};
pub use index::{ChangedCustomer, IndexChanges, SearchDocument};
pub use input::{BulkUpdate, CustomerChanges, CustomerDraft, CustomerPatch, NewCustomer, Patch};
pub use query::{
    Cursor, CustomerPage, ListQuery, LocationFilter, PageRequest, SearchCriteria, SortField,
    SortOrder,
};
pub use rules::{ValidationContext, parse_date_of_birth};
pub use stats::{
    BulkUpdateReport, CustomerStatistics, FailedUpdate, FailureReason, LocationCount,
    StatisticsWindow,
};
pub use values::{CustomerId, Email, Gender, LanguageTag, Phone, Tags, Username, ValueError};
pub use version::{BulkWritten, Precondition, Written};
