//! Prometheus metrics: requests by route pattern, method and status, a latency histogram per
//! route, and the connection pool's size and waiters. Kept in-process and rendered in the
//! text exposition format at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use infra_postgres::SearchCacheCounts;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Counts and latencies of one route pattern and method.
#[derive(Debug, Default)]
struct Series {
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
}

/// route pattern → method → series. Keyed by `String` so that a request finds its series
/// with the borrowed names and allocates only the first time a route is seen.
#[derive(Debug, Default)]
struct State {
    routes: BTreeMap<String, BTreeMap<String, Series>>,
}

impl State {
    fn record(&mut self, route: &str, method: &str, status: u16, secs: f64) {
        if !self
            .routes
            .get(route)
            .is_some_and(|m| m.contains_key(method))
        {
            self.routes
                .entry(route.to_owned())
                .or_default()
                .insert(method.to_owned(), Series::default());
        }
        if let Some(series) = self.routes.get_mut(route).and_then(|m| m.get_mut(method)) {
            *series.statuses.entry(status).or_default() += 1;
            let h = &mut series.latency;
            for (bucket, bound) in h.counts.iter_mut().zip(BUCKETS) {
                if secs <= bound {
                    *bucket += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }
}

/// A snapshot of the pool for the gauges.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolGauges {
    pub max_size: usize,
    pub size: usize,
    pub available: usize,
    pub waiting: usize,
}

/// The process's metrics registry.
#[derive(Debug, Default)]
pub struct Metrics {
    state: Mutex<State>,
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        if let Ok(mut state) = self.state.lock() {
            state.record(route, method, status, elapsed.as_secs_f64());
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self, pool: PoolGauges, search_cache: SearchCacheCounts) -> String {
        let mut out = String::new();
        let state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        out.push_str(
            "# HELP http_requests_total HTTP requests by route pattern, method and status.\n",
        );
        out.push_str("# TYPE http_requests_total counter\n");
        let series = || {
            state.routes.iter().flat_map(|(route, methods)| {
                methods
                    .iter()
                    .map(move |(method, series)| (route, method, series))
            })
        };
        for (route, method, series) in series() {
            for (status, n) in &series.statuses {
                let _ = writeln!(
                    out,
                    "http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP http_request_duration_seconds Request latency by route pattern and method.\n",
        );
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for (route, method, Series { latency: h, .. }) in series() {
            let labels = format!("route=\"{}\",method=\"{method}\"", escape(route));
            for (count, bound) in h.counts.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        for (name, help, value) in [
            (
                "db_pool_max_size",
                "Largest number of connections the pool opens.",
                pool.max_size,
            ),
            ("db_pool_size", "Connections currently open.", pool.size),
            (
                "db_pool_available",
                "Open connections not in use.",
                pool.available,
            ),
            (
                "db_pool_waiting",
                "Requests waiting for a connection.",
                pool.waiting,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        for (name, help, value) in [
            (
                "search_cache_hits_total",
                "Searches answered with a result computed under the same database snapshot.",
                search_cache.hits,
            ),
            (
                "search_cache_misses_total",
                "Searches computed (the database changed, or the search was not kept).",
                search_cache.misses,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
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
}
