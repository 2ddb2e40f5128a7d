//! customer-api binary crate.
