//! End-to-end tests of customer-api live in `tests/api/`: each test starts the real
//! application on a random port against its own fresh PostgreSQL database and drives it over
//! HTTP with a real client. This library is empty on purpose.
