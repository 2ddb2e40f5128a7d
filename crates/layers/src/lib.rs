//! Speed as optional layers: decorators around the domain's ports that change how often
//! the work is done, never what it answers. The binary composes them from configuration;
//! with every layer switched off each answer is the same, only slower under load.
//!
//! - [`Coalescer`]: requests that arrive while a computation runs share the next one, which
//!   starts after all of them arrived (so it sees every write acknowledged before any of
//!   them was asked).
//! - [`CoalescedStatistics`]: the statistics overview through a [`Coalescer`].

mod coalesce;
mod statistics;

pub use coalesce::Coalescer;
pub use statistics::CoalescedStatistics;
