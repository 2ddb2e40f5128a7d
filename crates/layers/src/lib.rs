//! Speed as optional layers: decorators around the domain's ports that change how often
//! the work is done, never what it answers. The binary composes them from configuration;
//! with every layer switched off each answer is the same, only slower under load.
//!
//! - [`Coalescer`]: the one single-flight primitive. Requests of a key share a computation:
//!   either only the next one, which starts after all of them arrived (so it sees every
//!   write acknowledged before any of them was asked), or, when the key names the data
//!   version, also the one already running.
//! - [`CoalescedStatistics`]: the statistics overview through a [`Coalescer`] joining the
//!   next computation.
//! - [`CachedSearch`]: search results reused while the storage's data version is the same,
//!   the same search asked together computed once (a [`Coalescer`] joining the running
//!   computation of its version and criteria).
//! - [`IndexedSearch`]: searches answered from a [`SearchIndex`] in memory, caught up with
//!   the storage's changes before each one, exact totals at any size.

mod coalesce;
mod index;
mod search;
mod shared;
mod statistics;

pub use coalesce::Coalescer;
pub use index::{IndexedSearch, SearchIndex, SearchIndexCounts};
pub use search::{CachedSearch, SearchCache, SearchCacheCounts};
pub use statistics::{CoalescedStatistics, StatisticsCoalescer};
