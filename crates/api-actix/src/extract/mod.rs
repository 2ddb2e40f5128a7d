//! Extractors and extractor configs that reject bad input with 422 (or 413) in the API's
//! JSON error shape, naming every offending field in pydantic's words, instead of actix's
//! plain-text errors.

mod body;
mod collect;
mod config;
mod describe;
mod query;

pub use body::JsonBody;
pub(crate) use body::parse as parse_body;
pub(crate) use collect::in_field_order;
pub use collect::{Collected, Raw};
pub use config::{json_config, path_config, query_config};
pub use query::QueryParams;

pub(crate) use describe::{Tag, tagged};
