//! Prometheus metrics: requests by route pattern, method and status, a latency histogram per
//! route, and the connection pool's size and waiters, rendered in the text exposition format
//! at `/metrics`.
//!
//! Recorded through the `metrics` facade into `metrics-exporter-prometheus`'s recorder. The
//! recorder belongs to the [`Metrics`] value rather than being installed as the process's
//! global one, so that every application built in one process (the tests build many) counts
//! only its own requests.
//!
//! A request's handles are registered once per route, method and status and kept here:
//! registering builds a key from owned labels and looks it up in the registry, which measured
//! about ten times the cost of the whole recording with the handles at hand. Recording then
//! takes a shared read lock (writers only when a series is new), an atomic add, and a push
//! onto the histogram's lock-free bucket, which rendering and [`Metrics::run_upkeep`] drain.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use api_actix::security::SharedLimitCounts;
use layers::{SearchCacheCounts, SearchIndexCounts};
use metrics::{
    Counter, Histogram, counter, describe_counter, describe_gauge, describe_histogram, gauge,
    histogram,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

const REQUESTS: &str = "http_requests_total";
const LATENCY: &str = "http_request_duration_seconds";
const FEED_LAG: &str = "events_feed_lag_seconds";
const SHARED_FALLBACKS: &str = "rate_limit_shared_fallbacks_total";
const SHARED_OUTAGES: &str = "rate_limit_shared_outages_total";
const SHARED_UP: &str = "rate_limit_shared_up";

/// A snapshot of the pool for the gauges.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolGauges {
    pub max_size: usize,
    pub size: usize,
    pub available: usize,
    pub waiting: usize,
}

/// The handles of one route pattern and method.
#[derive(Debug)]
struct Series {
    latency: Histogram,
    requests: HashMap<u16, Counter>,
}

/// The application's metrics registry.
#[derive(Debug)]
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// route pattern → method → handles, looked up with the borrowed names.
    series: RwLock<HashMap<String, HashMap<String, Series>>>,
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
        Self {
            recorder,
            handle,
            series: RwLock::default(),
        }
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
    describe_gauge!(
        FEED_LAG,
        "How long the oldest committed change the event feed cannot serve yet has waited for \
         an older transaction to end (0 when none)."
    );
    describe_gauge!("db_pool_available", "Open connections not in use.");
    describe_counter!(
        SHARED_FALLBACKS,
        "Requests this instance rate limited on its own because the shared limit (Redis) \
         failed or was slower than redis_timeout_ms (with [rate_limit] redis_url)."
    );
    describe_counter!(
        SHARED_OUTAGES,
        "Times the shared rate limit went from answering to failing."
    );
    describe_gauge!(
        SHARED_UP,
        "1 while the shared rate limit decides, 0 while this instance limits on its own."
    );
    describe_gauge!("db_pool_waiting", "Requests waiting for a connection.");
    describe_counter!(
        "search_cache_hits_total",
        "Searches answered with a result computed under the same database snapshot."
    );
    describe_counter!(
        "search_cache_misses_total",
        "Searches computed (the database changed, or the search was not kept)."
    );
    describe_gauge!(
        "search_index_ready",
        "1 while the search index answers searches (with [search] index), 0 while it is built."
    );
    describe_gauge!(
        "search_index_documents",
        "Customers the search index holds."
    );
    describe_gauge!(
        "search_index_remembered_terms",
        "Frequent search terms whose exact matches the search index keeps current."
    );
    describe_counter!(
        "search_index_answered_total",
        "Searches the search index answered."
    );
    describe_counter!(
        "search_index_declined_total",
        "Searches PostgreSQL answered instead of the index: the index was not built yet, or \
         the search had a term outside ASCII or a sort by a text field."
    );
    describe_counter!(
        "search_index_retried_total",
        "Searches the index ran again because a write changed a customer of the page."
    );
    describe_counter!(
        "db_reads_total",
        "Requests served by each server, counted at their first read (with [database] replica_urls)."
    );
    describe_counter!(
        "db_replica_fallbacks_total",
        "Reads with a consistency token no replica had replayed within replica_wait_ms."
    );
    describe_gauge!(
        "db_replica_up",
        "1 while a replica serves reads, 0 while it is out."
    );
    describe_gauge!(
        "db_replica_lag_seconds",
        "A replica's measured staleness (-1: not measured yet)."
    );
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        {
            let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(s) = series
                .get(route)
                .and_then(|by_method| by_method.get(method))
                && let Some(requests) = s.requests.get(&status)
            {
                requests.increment(1);
                s.latency.record(secs);
                return;
            }
        }
        let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
        let s = series
            .entry(route.to_owned())
            .or_default()
            .entry(method.to_owned())
            .or_insert_with(|| Series {
                latency: metrics::with_local_recorder(&self.recorder, || {
                    histogram!(LATENCY, "route" => route.to_owned(), "method" => method.to_owned())
                }),
                requests: HashMap::new(),
            });
        s.requests
            .entry(status)
            .or_insert_with(|| {
                metrics::with_local_recorder(&self.recorder, || {
                    counter!(REQUESTS, "route" => route.to_owned(), "method" => method.to_owned(), "status" => status.to_string())
                })
            })
            .increment(1);
        s.latency.record(secs);
    }

    /// The text exposition of every metric.
    pub fn render(
        &self,
        pool: PoolGauges,
        search_cache: SearchCacheCounts,
        search_index: Option<SearchIndexCounts>,
        feed_lag: Option<Duration>,
        replicas: Option<infra_postgres::ReplicaStatus>,
        shared_limit: Option<SharedLimitCounts>,
    ) -> String {
        metrics::with_local_recorder(&self.recorder, || {
            if let Some(shared) = shared_limit {
                counter!(SHARED_FALLBACKS).absolute(shared.fallbacks);
                counter!(SHARED_OUTAGES).absolute(shared.outages);
                gauge!(SHARED_UP).set(f64::from(u8::from(shared.up)));
            }
            if let Some(replicas) = replicas {
                counter!("db_reads_total", "target" => "primary").absolute(replicas.primary_reads);
                counter!("db_replica_fallbacks_total").absolute(replicas.fallbacks);
                for (index, (reads, up, staleness)) in replicas.replicas.iter().enumerate() {
                    let replica = format!("replica{index}");
                    counter!("db_reads_total", "target" => replica.clone()).absolute(*reads);
                    gauge!("db_replica_up", "replica" => replica.clone())
                        .set(f64::from(u8::from(*up)));
                    // Unknown staleness (never measured) shows as -1.
                    gauge!("db_replica_lag_seconds", "replica" => replica)
                        .set(staleness.map_or(-1.0, |lag| lag.as_secs_f64()));
                }
            }
            if let Some(lag) = feed_lag {
                gauge!(FEED_LAG).set(lag.as_secs_f64());
            }
            gauge!("db_pool_max_size").set(pool.max_size as f64);
            gauge!("db_pool_size").set(pool.size as f64);
            gauge!("db_pool_available").set(pool.available as f64);
            gauge!("db_pool_waiting").set(pool.waiting as f64);
            counter!("search_cache_hits_total").absolute(search_cache.hits);
            counter!("search_cache_misses_total").absolute(search_cache.misses);
            if let Some(index) = search_index {
                gauge!("search_index_ready").set(f64::from(u8::from(index.ready)));
                gauge!("search_index_documents").set(index.documents as f64);
                gauge!("search_index_remembered_terms").set(index.remembered_terms as f64);
                counter!("search_index_answered_total").absolute(index.answered);
                counter!("search_index_declined_total").absolute(index.declined);
                counter!("search_index_retried_total").absolute(index.retried);
            }
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
            Some(SearchIndexCounts {
                ready: true,
                documents: 41,
                remembered_terms: 3,
                answered: 5,
                declined: 2,
                retried: 1,
            }),
            Some(Duration::from_millis(1500)),
            Some(infra_postgres::ReplicaStatus {
                primary_reads: 4,
                fallbacks: 1,
                replicas: vec![
                    (9, true, Some(Duration::from_millis(250))),
                    (0, false, None),
                ],
            }),
            Some(SharedLimitCounts {
                fallbacks: 12,
                outages: 2,
                up: false,
            }),
        );
        for line in [
            "db_reads_total{target=\"primary\"} 4",
            "db_reads_total{target=\"replica0\"} 9",
            "db_replica_fallbacks_total 1",
            "db_replica_up{replica=\"replica0\"} 1",
            "db_replica_up{replica=\"replica1\"} 0",
            "db_replica_lag_seconds{replica=\"replica0\"} 0.25",
            "db_replica_lag_seconds{replica=\"replica1\"} -1",
            "rate_limit_shared_fallbacks_total 12",
            "rate_limit_shared_outages_total 2",
            "rate_limit_shared_up 0",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(text.contains(
            "http_requests_total{route=\"/api/v1/customers/{customer_id}\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains("status=\"404\"} 1"));
        assert!(text.contains("le=\"0.005\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 3"));
        assert!(text.contains("db_pool_max_size 16"));
        assert!(text.contains("search_cache_hits_total 7"));
        for line in [
            "search_index_ready 1",
            "search_index_documents 41",
            "search_index_remembered_terms 3",
            "search_index_answered_total 5",
            "search_index_declined_total 2",
            "search_index_retried_total 1",
        ] {
            assert!(text.contains(line), "{line} missing");
        }
        assert!(text.contains("search_cache_misses_total 3"));
        assert!(text.contains("events_feed_lag_seconds 1.5"), "{text}");
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
            None,
            Some(Duration::ZERO),
            None,
            None,
        );
        for line in [
            "# HELP http_requests_total HTTP requests by route pattern, method and status.",
            "# TYPE http_requests_total counter",
            "# HELP http_request_duration_seconds Request latency by route pattern and method.",
            "# TYPE http_request_duration_seconds histogram",
            "http_request_duration_seconds_count{route=\"/health\",method=\"GET\"} 2",
            "# TYPE db_pool_max_size gauge",
            "# TYPE events_feed_lag_seconds gauge",
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
