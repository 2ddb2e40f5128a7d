//! customer-api binary.

fn main() {}
