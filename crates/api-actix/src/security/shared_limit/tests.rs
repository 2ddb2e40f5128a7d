//! The combination without Redis: the domain's mock of the port, and a fake that answers late.

use std::io::Write;
use std::sync::Mutex;

use async_trait::async_trait;
use domain::{AdmissionUnavailable, MockSharedAdmission};

use super::*;

#[derive(Debug)]
struct ManualClock {
    start: Instant,
    elapsed: Mutex<Duration>,
}

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
        })
    }

    fn advance(&self, by: Duration) {
        *self.elapsed.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.elapsed.lock().unwrap()
    }
}

const TIMEOUT: Duration = Duration::from_millis(20);
const RETRY: Duration = Duration::from_millis(500);

/// A local limiter of 1 a second with a burst of 2, on `clock`.
fn limiter(shared: impl SharedAdmission, clock: &Arc<ManualClock>) -> SharedRateLimiter {
    let local = RateLimiter::with_clock(1.0, 2, clock.clone());
    SharedRateLimiter::with_clock(Arc::new(shared), local, TIMEOUT, RETRY, clock.clone())
}

fn unavailable() -> Result<Admission, AdmissionUnavailable> {
    Err(AdmissionUnavailable("connection refused".into()))
}

/// Log lines written while the current thread's subscriber is the returned guard's.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || logs.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn lines_with(&self, level: &str) -> usize {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().filter(|line| line.contains(level)).count()
    }
}

#[actix_web::test]
async fn while_the_shared_limit_answers_it_alone_decides() {
    let clock = ManualClock::new();
    let mut shared = MockSharedAdmission::new();
    let mut answers = [
        Admission::Admitted,
        Admission::Refused {
            retry_after: Duration::from_millis(1500),
        },
    ]
    .into_iter();
    shared
        .expect_admit()
        .withf(|client| client == "sub:ann")
        .times(2)
        .returning(move |_| Ok(answers.next().unwrap()));
    let limiter = limiter(shared, &clock);
    assert_eq!(limiter.check("sub:ann").await, Ok(()));
    assert_eq!(
        limiter.check("sub:ann").await,
        Err(Duration::from_millis(1500))
    );
    let counts = limiter.counts();
    assert_eq!((counts.fallbacks, counts.outages, counts.up), (0, 0, true));
}

#[actix_web::test]
async fn an_outage_falls_back_to_the_local_limit_warns_once_and_counts_every_request() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let clock = ManualClock::new();
    let mut shared = MockSharedAdmission::new();
    // Tried once; the next requests within the retry period do not ask it.
    shared.expect_admit().times(1).returning(|_| unavailable());
    let limiter = limiter(shared, &clock);
    // The local burst of 2, then the local refusal with its wait.
    assert_eq!(limiter.check("ip:1").await, Ok(()));
    assert_eq!(limiter.check("ip:1").await, Ok(()));
    let wait = limiter.check("ip:1").await.unwrap_err();
    assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
    for _ in 0..10 {
        let _ = limiter.check("ip:2").await;
    }
    let counts = limiter.counts();
    assert_eq!(
        (counts.fallbacks, counts.outages, counts.up),
        (13, 1, false)
    );
    assert_eq!(logs.lines_with("WARN"), 1, "one warning for the outage");
}

#[actix_web::test]
async fn a_shared_limit_slower_than_the_timeout_is_not_waited_for() {
    /// Answers after a second.
    struct Late;
    #[async_trait]
    impl SharedAdmission for Late {
        async fn admit(&self, _client: &str) -> Result<Admission, AdmissionUnavailable> {
            actix_web::rt::time::sleep(Duration::from_secs(1)).await;
            Ok(Admission::Admitted)
        }
    }
    let clock = ManualClock::new();
    let limiter = limiter(Late, &clock);
    let started = std::time::Instant::now();
    assert_eq!(
        limiter.check("ip:1").await,
        Ok(()),
        "the local limit admits"
    );
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    // Out now: the next requests do not even start a call.
    let started = std::time::Instant::now();
    assert_eq!(limiter.check("ip:1").await, Ok(()));
    assert!(
        started.elapsed() < Duration::from_millis(5),
        "{:?}",
        started.elapsed()
    );
    let counts = limiter.counts();
    assert_eq!((counts.fallbacks, counts.outages, counts.up), (2, 1, false));
}

#[actix_web::test]
async fn the_shared_limit_is_tried_again_once_per_period_and_decides_again_when_it_answers() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let clock = ManualClock::new();
    let mut shared = MockSharedAdmission::new();
    let mut seq = mockall::Sequence::new();
    shared
        .expect_admit()
        .times(2)
        .in_sequence(&mut seq)
        .returning(|_| unavailable());
    shared
        .expect_admit()
        .times(2)
        .in_sequence(&mut seq)
        .returning(|_| {
            Ok(Admission::Refused {
                retry_after: Duration::from_secs(3),
            })
        });
    let limiter = limiter(shared, &clock);
    assert_eq!(limiter.check("ip:1").await, Ok(()), "out: local");
    clock.advance(RETRY - Duration::from_millis(1));
    assert_eq!(limiter.check("ip:1").await, Ok(()), "not due yet: local");
    clock.advance(Duration::from_millis(1));
    // Due: this one tries, fails, and the local limit (its burst spent) refuses.
    assert!(limiter.check("ip:1").await.is_err());
    assert_eq!(limiter.counts().outages, 1, "still the same outage");
    clock.advance(RETRY);
    assert_eq!(
        limiter.check("ip:1").await,
        Err(Duration::from_secs(3)),
        "back: the shared limit's answer"
    );
    assert_eq!(limiter.check("ip:1").await, Err(Duration::from_secs(3)));
    let counts = limiter.counts();
    assert_eq!((counts.fallbacks, counts.outages, counts.up), (3, 1, true));
    assert_eq!(logs.lines_with("WARN"), 1);
    assert_eq!(logs.lines_with("answers again"), 1);
}

#[actix_web::test]
async fn a_second_outage_is_warned_about_again() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let clock = ManualClock::new();
    let mut shared = MockSharedAdmission::new();
    let mut seq = mockall::Sequence::new();
    for answer in [unavailable(), Ok(Admission::Admitted), unavailable()] {
        shared
            .expect_admit()
            .times(1)
            .in_sequence(&mut seq)
            .return_const(answer);
    }
    let limiter = limiter(shared, &clock);
    let _ = limiter.check("ip:1").await;
    clock.advance(RETRY);
    let _ = limiter.check("ip:1").await;
    let _ = limiter.check("ip:1").await;
    assert_eq!(limiter.counts().outages, 2);
    assert_eq!(logs.lines_with("WARN"), 2);
}

#[actix_web::test]
async fn an_answer_to_a_call_in_flight_when_the_outage_began_does_not_end_it() {
    /// The first call answers after 10 ms, every later one fails at once.
    #[derive(Default)]
    struct FirstSlowThenDown(std::sync::atomic::AtomicUsize);
    #[async_trait]
    impl SharedAdmission for FirstSlowThenDown {
        async fn admit(&self, _client: &str) -> Result<Admission, AdmissionUnavailable> {
            if self.0.fetch_add(1, Ordering::Relaxed) == 0 {
                actix_web::rt::time::sleep(Duration::from_millis(10)).await;
                return Ok(Admission::Admitted);
            }
            unavailable()
        }
    }
    let clock = ManualClock::new();
    let limiter = Arc::new(limiter(FirstSlowThenDown::default(), &clock));
    let in_flight = actix_web::rt::spawn({
        let limiter = limiter.clone();
        async move { limiter.check("ip:1").await }
    });
    actix_web::rt::time::sleep(Duration::from_millis(2)).await;
    assert_eq!(
        limiter.check("ip:1").await,
        Ok(()),
        "the outage begins: local"
    );
    assert_eq!(
        in_flight.await.unwrap(),
        Ok(()),
        "the earlier call's answer"
    );
    let counts = limiter.counts();
    assert_eq!((counts.outages, counts.up), (1, false), "still out");
}
