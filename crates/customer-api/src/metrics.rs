//! Prometheus metrics: requests by route pattern, method and status, a latency histogram per
//! route, and the connection pool's size and waiters, rendered in the text exposition format
//! at `/metrics`.
//!
//! Recorded through the `metrics` facade into `metrics-exporter-prometheus`'s recorder. The
//! recorder belongs to the [`Metrics`] value rather than being installed as the process's
//! global one, so that every application built in one process (the tests build many) counts
//! only its own requests. Recording takes no global lock: the registry is sharded behind
//! read-write locks and a histogram sample is pushed onto a lock-free bucket, drained into the
//! histogram at each rendering and by [`Metrics::run_upkeep`].

use std::time::Duration;

use infra_postgres::SearchCacheCounts;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

const REQUESTS: &str = "http_requests_total";
const LATENCY: &str = "http_request_duration_seconds";

/// A snapshot of the pool for the gauges.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolGauges {
    pub max_size: usize,
    pub size: usize,
    pub available: usize,
    pub waiting: usize,
}

/// The application's metrics registry.
#[derive(Debug)]
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        #[expect(
            clippy::expect_used,
            reason = "the builder refuses only an empty bucket list, and BUCKETS is not empty"
        )]
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.to_owned()), &BUCKETS)
            .expect("latency buckets")
            .build_recorder();
        metrics::with_local_recorder(&recorder, describe);
        let handle = recorder.handle();
        Self { recorder, handle }
    }
}

fn describe() {
    describe_counter!(
        REQUESTS,
        "HTTP requests by route pattern, method and status."
    );
    describe_histogram!(LATENCY, "Request latency by route pattern and method.");
    describe_gauge!(
        "db_pool_max_size",
        "Largest number of connections the pool opens."
    );
    describe_gauge!("db_pool_size", "Connections currently open.");
    describe_gauge!("db_pool_available", "Open connections not in use.");
    describe_gauge!("db_pool_waiting", "Requests waiting for a connection.");
    describe_counter!(
        "search_cache_hits_total",
        "Searches answered with a result computed under the same database snapshot."
    );
    describe_counter!(
        "search_cache_misses_total",
        "Searches computed (the database changed, or the search was not kept)."
    );
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        metrics::with_local_recorder(&self.recorder, || {
            counter!(REQUESTS, "route" => route.to_owned(), "method" => method.to_owned(), "status" => status.to_string())
                .increment(1);
            histogram!(LATENCY, "route" => route.to_owned(), "method" => method.to_owned())
                .record(elapsed.as_secs_f64());
        });
    }

    /// The text exposition of every metric.
    pub fn render(&self, pool: PoolGauges, search_cache: SearchCacheCounts) -> String {
        metrics::with_local_recorder(&self.recorder, || {
            gauge!("db_pool_max_size").set(pool.max_size as f64);
            gauge!("db_pool_size").set(pool.size as f64);
            gauge!("db_pool_available").set(pool.available as f64);
            gauge!("db_pool_waiting").set(pool.waiting as f64);
            counter!("search_cache_hits_total").absolute(search_cache.hits);
            counter!("search_cache_misses_total").absolute(search_cache.misses);
        });
        self.handle.render()
    }

    /// Moves the latency samples recorded since the last call into their histograms, so that
    /// memory stays bounded when nobody scrapes `/metrics`.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_method_and_status() {
        let m = Metrics::default();
        m.observe(
            "/api/v1/customers/{customer_id}",
            "GET",
            200,
            Duration::from_millis(3),
        );
        m.observe(
            "/api/v1/customers/{customer_id}",
            "GET",
            200,
            Duration::from_millis(30),
        );
        m.observe(
            "/api/v1/customers/{customer_id}",
            "GET",
            404,
            Duration::from_millis(1),
        );
        let text = m.render(
            PoolGauges {
                max_size: 16,
                size: 2,
                available: 1,
                waiting: 0,
            },
            SearchCacheCounts { hits: 7, misses: 3 },
        );
        assert!(text.contains(
            "http_requests_total{route=\"/api/v1/customers/{customer_id}\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains("status=\"404\"} 1"));
        assert!(text.contains("le=\"0.005\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 3"));
        assert!(text.contains("db_pool_max_size 16"));
        assert!(text.contains("search_cache_hits_total 7"));
        assert!(text.contains("search_cache_misses_total 3"));
    }

    #[test]
    fn every_family_keeps_its_type_and_help_and_samples_survive_upkeep() {
        let m = Metrics::default();
        m.observe("/health", "GET", 200, Duration::from_millis(2));
        m.run_upkeep();
        m.observe("/health", "GET", 200, Duration::from_millis(2));
        let text = m.render(
            PoolGauges::default(),
            SearchCacheCounts { hits: 0, misses: 0 },
        );
        for line in [
            "# HELP http_requests_total HTTP requests by route pattern, method and status.",
            "# TYPE http_requests_total counter",
            "# HELP http_request_duration_seconds Request latency by route pattern and method.",
            "# TYPE http_request_duration_seconds histogram",
            "http_request_duration_seconds_count{route=\"/health\",method=\"GET\"} 2",
            "# TYPE db_pool_max_size gauge",
            "# TYPE db_pool_size gauge",
            "# TYPE db_pool_available gauge",
            "# TYPE db_pool_waiting gauge",
            "# TYPE search_cache_hits_total counter",
            "# TYPE search_cache_misses_total counter",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }
}
