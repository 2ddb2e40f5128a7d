//! Extractors and extractor configs that reject bad input with 422 (or 413) in the API's
//! JSON error shape, naming the offending field, instead of actix's plain-text errors.

mod body;
mod config;
mod describe;
mod query;

pub use body::JsonBody;
pub use config::{json_config, path_config, query_config};
pub use query::QueryParams;

pub(crate) use describe::tagged;
