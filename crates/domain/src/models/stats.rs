//! Analytics and bulk-update results.

use chrono::{DateTime, Days, Utc};

/// The instants that bound "today", "this week" and "this month", as the original service
/// computed them: since 00:00 UTC today, and since 00:00 UTC seven and thirty days before
/// today (whole UTC days, so the counts are sums of per-day counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatisticsWindow {
    pub now: DateTime<Utc>,
    pub today_start: DateTime<Utc>,
    pub week_start: DateTime<Utc>,
    pub month_start: DateTime<Utc>,
}

impl StatisticsWindow {
    /// Most entries each per-country and per-city map holds (the largest first).
    pub const TOP_LOCATIONS: u32 = 100;

    /// The window ending at `now`.
    pub fn ending_at(now: DateTime<Utc>) -> Self {
        let today_start = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(now, |midnight| midnight.and_utc());
        Self {
            now,
            today_start,
            week_start: today_start
                .checked_sub_days(Days::new(7))
                .unwrap_or(today_start),
            month_start: today_start
                .checked_sub_days(Days::new(30))
                .unwrap_or(today_start),
        }
    }
}

/// A place and how many customers are in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationCount {
    pub name: String,
    pub count: u64,
}

/// The seed's statistics object; the maps are ordered by count, largest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerStatistics {
    pub total_customers: u64,
    pub active_customers: u64,
    pub verified_customers: u64,
    pub new_customers_today: u64,
    pub new_customers_this_week: u64,
    pub new_customers_this_month: u64,
    pub customers_by_country: Vec<LocationCount>,
    pub customers_by_city: Vec<LocationCount>,
    /// Mean age in years of customers with a date of birth, `None` when none has one.
    pub average_customer_age: Option<f64>,
    pub gender_distribution: Vec<LocationCount>,
}

/// One customer a bulk update could not change, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedUpdate {
    /// The id as the request named it.
    pub customer_id: String,
    /// Why it was not changed.
    pub reason: FailureReason,
}

/// Why a bulk update left one customer unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// No customer has this id (or the text is no customer id).
    NotFound,
    /// The customer is not at the version the request expected (it changed meanwhile).
    VersionMismatch {
        /// The version it is at.
        current: u64,
    },
}

/// The seed's original bulk-update answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkUpdateReport {
    pub updated_count: u64,
    pub failed_updates: Vec<FailedUpdate>,
    pub total_processed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_starts_today_at_midnight_utc_and_goes_back_7_and_30_whole_days() {
        let now = DateTime::parse_from_rfc3339("2024-03-10T15:45:00Z")
            .unwrap()
            .to_utc();
        let w = StatisticsWindow::ending_at(now);
        assert_eq!(w.today_start.to_rfc3339(), "2024-03-10T00:00:00+00:00");
        assert_eq!(w.week_start.to_rfc3339(), "2024-03-03T00:00:00+00:00");
        assert_eq!(w.month_start.to_rfc3339(), "2024-02-09T00:00:00+00:00");
    }
}
