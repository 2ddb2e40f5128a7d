//! The script's decisions against a real `redis-server` each test starts for itself:
//! burst then refusal with the right wait, refill, one budget for every instance, keys
//! that expire, recovery from `SCRIPT FLUSH`, and a fast failure when Redis is gone.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

// The service tests' support for servers of their own (redis.rs finds `super::ports`).
#[path = "../../customer-api/tests/common/ports.rs"]
mod ports;
#[path = "../../customer-api/tests/common/redis.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use domain::{Admission, RateQuota, SharedAdmission};
use infra_redis::RedisAdmission;
use redis::AsyncCommands;
use redis_server::RedisServer;

const TIMEOUT: Duration = Duration::from_millis(200);

fn admission(server: &RedisServer, per_second: f64, burst: u32) -> RedisAdmission {
    RedisAdmission::new(
        &server.url,
        RateQuota::new(per_second, burst).unwrap(),
        TIMEOUT,
    )
    .unwrap()
}

async fn inspect(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// A command's calls and failed calls from `INFO commandstats` (0 when never called).
async fn calls(connection: &mut redis::aio::MultiplexedConnection, command: &str) -> (u64, u64) {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(connection)
        .await
        .unwrap();
    let Some(stats) = info
        .lines()
        .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:")))
    else {
        return (0, 0);
    };
    let field = |name: &str| {
        stats
            .split(',')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .map_or(0, |n| n.parse().unwrap())
    };
    (field("calls"), field("failed_calls"))
}

#[tokio::test]
async fn a_burst_passes_then_the_next_request_waits_one_interval_and_passes_after_it() {
    let server = RedisServer::start();
    let limit = admission(&server, 10.0, 3);
    let started = Instant::now();
    for i in 0..3 {
        assert_eq!(
            limit.admit("ip:a").await.unwrap(),
            Admission::Admitted,
            "request {i}"
        );
    }
    let Admission::Refused { retry_after } = limit.admit("ip:a").await.unwrap() else {
        panic!("the fourth request of a burst of 3 is refused");
    };
    // The burst's TAT is 300 ms ahead, 200 ms are tolerated: 100 ms less the time spent.
    let spent = started.elapsed();
    assert!(
        retry_after <= Duration::from_millis(100)
            && retry_after >= Duration::from_millis(100).saturating_sub(spent),
        "{retry_after:?} after {spent:?}"
    );
    // Another client is not affected.
    assert_eq!(limit.admit("ip:b").await.unwrap(), Admission::Admitted);
    tokio::time::sleep(retry_after + Duration::from_millis(2)).await;
    assert_eq!(
        limit.admit("ip:a").await.unwrap(),
        Admission::Admitted,
        "refilled"
    );
    assert!(matches!(
        limit.admit("ip:a").await.unwrap(),
        Admission::Refused { .. }
    ));
}

#[tokio::test]
async fn instances_share_one_budget_per_client() {
    let server = RedisServer::start();
    let (a, b) = (admission(&server, 1.0, 4), admission(&server, 1.0, 4));
    let mut admitted = 0;
    for i in 0..12 {
        let instance = if i % 2 == 0 { &a } else { &b };
        if instance.admit("sub:ann").await.unwrap() == Admission::Admitted {
            admitted += 1;
        }
    }
    assert_eq!(
        admitted, 4,
        "one burst for the client across both instances"
    );
}

#[tokio::test]
async fn a_clients_key_expires_when_its_bucket_is_full_again() {
    let server = RedisServer::start();
    let limit = admission(&server, 10.0, 3);
    let mut inspect = inspect(&server).await;
    let key = RedisAdmission::key("ip:ttl");
    limit.admit("ip:ttl").await.unwrap();
    let ttl: i64 = inspect.pttl(&key).await.unwrap();
    assert!(
        ttl > 0 && ttl <= 100,
        "one request: its interval, got {ttl} ms"
    );
    limit.admit("ip:ttl").await.unwrap();
    limit.admit("ip:ttl").await.unwrap();
    let ttl: i64 = inspect.pttl(&key).await.unwrap();
    assert!(
        ttl > 200 && ttl <= 300,
        "a full burst: 3 intervals, got {ttl} ms"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let exists: bool = inspect.exists(&key).await.unwrap();
    assert!(!exists, "expired once the bucket was full again");
    let keys: Vec<String> = inspect.keys("*").await.unwrap();
    assert!(keys.is_empty(), "nothing else is kept: {keys:?}");
}

#[tokio::test]
async fn the_script_is_called_by_its_hash_and_loaded_again_after_a_flush() {
    let server = RedisServer::start();
    let limit = admission(&server, 100.0, 1000);
    let mut inspect = inspect(&server).await;
    for _ in 0..5 {
        assert_eq!(limit.admit("ip:sha").await.unwrap(), Admission::Admitted);
    }
    redis::cmd("SCRIPT")
        .arg("FLUSH")
        .exec_async(&mut inspect)
        .await
        .unwrap();
    assert_eq!(
        limit.admit("ip:sha").await.unwrap(),
        Admission::Admitted,
        "after the flush"
    );
    assert_eq!(limit.admit("ip:sha").await.unwrap(), Admission::Admitted);
    let exists: Vec<bool> = redis::cmd("SCRIPT")
        .arg("EXISTS")
        .arg(limit.script_hash())
        .query_async(&mut inspect)
        .await
        .unwrap();
    assert_eq!(exists, [true], "loaded again");
    // 7 admissions by hash; the one after the flush was refused with NOSCRIPT, loaded and
    // retried (so may the first be, if it came before the load at start); never the whole
    // script per request.
    let (evalsha, noscript) = calls(&mut inspect, "evalsha").await;
    assert_eq!(evalsha - noscript, 7, "{evalsha} calls, {noscript} failed");
    assert!((1..=2).contains(&noscript), "{noscript} NOSCRIPT answers");
    assert_eq!(calls(&mut inspect, "eval").await, (0, 0));
}

#[tokio::test]
async fn with_redis_gone_a_call_fails_within_its_timeout_and_succeeds_once_it_is_back() {
    let mut server = RedisServer::start();
    let limit = admission(&server, 100.0, 10);
    assert_eq!(limit.admit("ip:c").await.unwrap(), Admission::Admitted);
    server.kill();
    let started = Instant::now();
    assert!(limit.admit("ip:c").await.is_err());
    assert!(
        started.elapsed() <= TIMEOUT + Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    while limit.admit("ip:c").await.is_err() {
        assert!(
            Instant::now() < deadline,
            "not back within 10 s of the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn a_malformed_url_is_refused() {
    assert!(infra_redis::check_url("http://127.0.0.1:6379").is_err());
    assert!(infra_redis::check_url("redis://127.0.0.1:6379/0").is_ok());
}
