//! Request and response bodies and query parameters: the seed's JSON, with conversions to
//! and from the domain's types. Parsing happens here; every rule lives in the domain.

mod analytics;
mod common;
mod create;
mod cursor;
mod customer;
pub(crate) mod de;
mod events;
mod fields;
mod locations;
mod params;
mod privacy;
mod search;
mod update;

pub use analytics::{CountMap, StatisticsResponse};
pub use common::{HealthResponse, LiveResponse, MessageResponse};
pub use create::CreateCustomerRequest;
pub use customer::CustomerResponse;
pub use events::{
    EventResponse, EventType, FeedParams, FeedResponse, FieldChangeResponse, TimelineParams,
    TimelineResponse,
};
pub use fields::{Gender, SortBy, SortOrder, TagsInput};
pub use locations::{
    CitiesResponse, CityCount, CountriesResponse, CountryCount, LocationFilters,
    LocationSearchResponse, StateCount, StatesResponse, TagsSearchResponse,
};
pub use params::{CountryParams, ListParams, LocationParams, PageParams};
pub use privacy::{EraseRequest, ExportResponse, ExportedRequestResponse, TombstoneResponse};
pub use search::{CustomerListResponse, SearchRequest};
pub use update::{
    BulkUpdateChanges, BulkUpdateRequest, BulkUpdateResponse, FailedUpdateResponse,
    UpdateCustomerRequest,
};
