//! The token bucket with a clock moved by hand, and 429 through the router.

#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions: a failure here is a broken test"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use api_actix::security::{Clock, RateLimiter, Role, Security, retry_after_secs};
use serde_json::json;

use crate::security_support::{bearer, hs256_security, send_secured};

#[derive(Debug)]
struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }

    fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap()
    }
}

fn limiter(per_second: f64, burst: u32) -> (RateLimiter, Arc<ManualClock>) {
    let clock = ManualClock::new();
    (
        RateLimiter::with_clock(per_second, burst, clock.clone()),
        clock,
    )
}

#[test]
fn a_new_client_may_send_a_burst_and_then_must_wait_for_a_token() {
    let (limiter, _) = limiter(2.0, 3);
    for _ in 0..3 {
        assert!(limiter.check("a").is_ok());
    }
    assert_eq!(limiter.check("a"), Err(Duration::from_millis(500)));
}

#[test]
fn tokens_come_back_at_the_configured_rate_but_never_beyond_the_burst() {
    let (limiter, clock) = limiter(2.0, 3);
    for _ in 0..3 {
        limiter.check("a").unwrap();
    }
    clock.advance(Duration::from_millis(500));
    assert!(limiter.check("a").is_ok());
    assert!(limiter.check("a").is_err());
    clock.advance(Duration::from_secs(60));
    for _ in 0..3 {
        assert!(limiter.check("a").is_ok());
    }
    assert!(limiter.check("a").is_err());
}

#[test]
fn the_wait_shrinks_as_the_next_token_fills_up() {
    let (limiter, clock) = limiter(0.5, 1);
    limiter.check("a").unwrap();
    assert_eq!(limiter.check("a"), Err(Duration::from_secs(2)));
    clock.advance(Duration::from_millis(1500));
    assert_eq!(limiter.check("a"), Err(Duration::from_millis(500)));
    assert_eq!(retry_after_secs(Duration::from_millis(500)), 1);
    assert_eq!(retry_after_secs(Duration::from_millis(2100)), 3);
}

#[test]
fn clients_have_their_own_buckets() {
    let (limiter, _) = limiter(1.0, 1);
    assert!(limiter.check("a").is_ok());
    assert!(limiter.check("a").is_err());
    assert!(limiter.check("b").is_ok());
}

#[test]
fn buckets_idle_until_full_again_are_forgotten() {
    let (limiter, clock) = limiter(10.0, 20);
    for client in 0..50 {
        limiter.check(&format!("ip:{client}")).unwrap();
    }
    assert_eq!(limiter.tracked_clients(), 50);
    clock.advance(Duration::from_secs(3));
    limiter.check("ip:new").unwrap();
    assert_eq!(limiter.tracked_clients(), 1);
}

#[test]
fn past_its_capacity_the_limiter_forgets_the_stalest_client() {
    let (limiter, clock) = limiter(1.0, 5);
    let limiter = limiter.with_capacity(3);
    for client in ["a", "b", "c", "d"] {
        limiter.check(client).unwrap();
        clock.advance(Duration::from_millis(10));
    }
    assert_eq!(limiter.tracked_clients(), 3);
}

#[test]
fn a_sweep_waits_for_a_whole_refill_period() {
    // One a second, five at once: a bucket takes 5 s to fill, so sweeps are 5 s apart.
    let (limiter, clock) = limiter(1.0, 5);
    limiter.check("a").unwrap();
    clock.advance(Duration::from_secs(2));
    // `a`'s bucket is full again, but the last sweep (at the start) is only 2 s old.
    limiter.check("b").unwrap();
    assert_eq!(limiter.tracked_clients(), 2);
    clock.advance(Duration::from_secs(3));
    limiter.check("c").unwrap();
    assert_eq!(limiter.tracked_clients(), 1);
}

#[test]
fn past_its_capacity_the_limiter_forgets_the_client_whose_bucket_is_fullest() {
    let (limiter, clock) = limiter(1.0, 2);
    let limiter = limiter.with_capacity(10);
    // `full` sends one request; nine others empty their buckets after it.
    limiter.check("full").unwrap();
    let drained: Vec<String> = (0..9).map(|i| format!("drained{i}")).collect();
    for client in &drained {
        clock.advance(Duration::from_millis(10));
        limiter.check(client).unwrap();
        limiter.check(client).unwrap();
        assert!(limiter.check(client).is_err());
    }
    clock.advance(Duration::from_millis(10));
    limiter.check("new").unwrap();
    assert_eq!(limiter.tracked_clients(), 10);
    // The drained buckets are still drained: only `full` was forgotten...
    for client in &drained {
        assert!(limiter.check(client).is_err(), "{client} was forgotten");
    }
    // ... and comes back with a whole burst (kept, it would have had one request left).
    limiter.check("full").unwrap();
    assert!(limiter.check("full").is_ok());
}

#[test]
fn a_rate_that_is_not_a_positive_number_limits_to_the_slowest_rate() {
    // Settings refuse such rates; should one get here, the limiter fails closed: after the
    // burst, the longest wait it announces (a day).
    for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let (limiter, _) = limiter(rate, 1);
        assert!(limiter.check("a").is_ok(), "{rate}");
        assert_eq!(
            limiter.check("a"),
            Err(Duration::from_secs(86_400)),
            "{rate}"
        );
    }
}

fn limited(per_second: f64, burst: u32) -> Security {
    hs256_security().with_rate_limiter(RateLimiter::new(per_second, burst), false)
}

#[actix_web::test]
async fn over_the_limit_a_client_gets_429_with_retry_after_in_json() {
    let requests = (0..3)
        .map(|_| {
            TestRequest::get()
                .uri("/openapi.json")
                .peer_addr("10.1.2.3:5000".parse().unwrap())
        })
        .collect();
    let replies = send_secured(limited(0.1, 2), requests).await;
    assert_eq!(replies[1].status, StatusCode::OK);
    let refused = &replies[2];
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.header("retry-after"), "10");
    assert_eq!(
        refused.json,
        json!({"detail": "Too many requests", "code": "rate_limited"})
    );
}

#[actix_web::test]
async fn tokens_are_limited_by_subject_and_anonymous_requests_by_address() {
    let get = |ip: &str| {
        TestRequest::get()
            .uri("/api/v1/customers/statistics/overview")
            .peer_addr(format!("{ip}:5000").parse().unwrap())
    };
    let with_token = |ip: &str| get(ip).insert_header(("authorization", bearer(Role::Reader)));
    let replies = send_secured(
        limited(0.1, 1),
        vec![
            with_token("10.0.0.1"),
            with_token("10.0.0.2"),
            get("10.0.0.1"),
            get("10.0.0.3"),
        ],
    )
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    // Same subject from two addresses: one bucket. Without a token: one bucket per address.
    assert_eq!(statuses, [503, 429, 401, 401]);
}

#[actix_web::test]
async fn forwarded_for_names_the_client_only_when_trusted() {
    let via_proxy = |client: &str| {
        TestRequest::get()
            .uri("/openapi.json")
            .peer_addr("10.9.9.9:443".parse().unwrap())
            .insert_header(("x-forwarded-for", format!("1.2.3.4, {client}")))
    };
    let trusted = Security::default().with_rate_limiter(RateLimiter::new(0.1, 1), true);
    let replies = send_secured(trusted, vec![via_proxy("5.5.5.5"), via_proxy("6.6.6.6")]).await;
    assert_eq!(replies[1].status, StatusCode::OK);
    let untrusted = Security::default().with_rate_limiter(RateLimiter::new(0.1, 1), false);
    let replies = send_secured(untrusted, vec![via_proxy("5.5.5.5"), via_proxy("6.6.6.6")]).await;
    assert_eq!(replies[1].status, StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn health_and_metrics_are_never_limited() {
    let requests = (0..4)
        .flat_map(|_| {
            [
                TestRequest::get().uri("/health"),
                TestRequest::get().uri("/metrics"),
            ]
        })
        .collect();
    for reply in send_secured(limited(0.1, 1), requests).await {
        assert_ne!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    }
}
