//! Reads from streaming replicas, with read-your-writes.
//!
//! A write's answer carries a consistency token: the primary's WAL position read after the
//! commit ([`Replicas::primary_position`]), at or past the commit record. A request's read
//! that presents it ([`crate::RoutedReads`], scoped to the request) is served by a replica
//! only once that replica has replayed past it (`pg_last_wal_replay_lsn()`), waiting at most
//! `wait`, else by the primary. A read without a token is served by a replica whose
//! staleness, as last measured, is within `max_lag`, else by the primary. Everything not
//! scoped to a request (writes, the reads a write makes, background work, the statistics a
//! batch of requests shares) uses the primary.
//!
//! **Staleness is measured, not assumed.** A monitor ([`Replicas::monitor`]) samples the
//! primary's WAL position every `check_every` and each replica's replay position. A replica
//! that has replayed past the primary's position of time `t` holds everything committed
//! before `t`: its staleness is at most `now - t` for the latest such sample. (A quiet
//! primary does not make a replica stale: its position does not move.)
//!
//! **Health.** A replica that fails a check or a read is taken out and tried again after a
//! backoff (1 s, doubling to 30 s); a read that failed on it is retried on the primary. With
//! every replica out, reads go to the primary.
//!
//! Within one scope every read goes to the same server (the first read's choice), so a
//! request's reads see one server's data: the search cache's version and the search it
//! keys must come from the same one.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable};
use domain::{ReadAffinity, RepositoryError};

use crate::complete;
use crate::errors::from_diesel;
use crate::pool::Pool;

/// How long a replica stays out after its first failure; doubled on each further one.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest a replica stays out before it is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often a read waiting for its token asks the replica again.
const WAIT_STEP: Duration = Duration::from_millis(2);

/// Where the replicas are and how stale a read may be.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaSettings {
    /// Longest a read with a token waits for a replica to replay past it.
    pub wait: Duration,
    /// Largest staleness of a replica that serves reads without a token.
    pub max_lag: Duration,
    /// How often the monitor measures the replicas.
    pub check_every: Duration,
}

impl ReplicaSettings {
    /// How long one measure of a server may take: the larger of the interval and the lag
    /// bound. A replica slower than that could not serve a read within the bound anyway; one
    /// merely slower than the interval (a busy machine, a new connection) is still good, and
    /// taking it out for a backoff would send every read to the primary for nothing.
    #[must_use]
    pub fn check_bound(&self) -> Duration {
        self.check_every.max(self.max_lag)
    }
}

/// A position in the write-ahead log (`pg_lsn`), as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WalPosition(u64);

impl WalPosition {
    /// Reads PostgreSQL's text form, `16/B374D848`.
    pub fn parse(text: &str) -> Option<Self> {
        let (high, low) = text.trim().split_once('/')?;
        let high = u64::from_str_radix(high, 16).ok()?;
        let low = u64::from_str_radix(low, 16).ok()?;
        (high <= u64::from(u32::MAX) && low <= u64::from(u32::MAX))
            .then_some(Self(high << 32 | low))
    }
}

impl std::fmt::Display for WalPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & u64::from(u32::MAX))
    }
}

/// What one replica is known to have done.
#[derive(Debug, Default)]
struct Health {
    /// Its replay position at the last measure (0: unknown).
    replayed: AtomicU64,
    /// Milliseconds of staleness at the last measure; `u64::MAX` when unknown.
    stale_ms: AtomicU64,
    /// When that measure was taken, as milliseconds since `Shared::epoch`.
    measured_at_ms: AtomicU64,
    /// Out until then (milliseconds since `Shared::epoch`); 0: in.
    out_until_ms: AtomicU64,
    /// The current backoff in milliseconds (0 after a success).
    backoff_ms: AtomicU64,
    /// Reads it served.
    reads: AtomicU64,
}

/// What every worker's view of the replicas shares.
#[derive(Debug)]
struct Shared {
    settings: ReplicaSettings,
    epoch: Instant,
    health: Vec<Health>,
    /// The primary's recent positions, oldest first, with when they were read.
    history: Mutex<VecDeque<(Instant, WalPosition)>>,
    primary_reads: AtomicU64,
    /// Reads with a token that no replica could serve in time.
    fallbacks: AtomicU64,
    next: AtomicUsize,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn is_in(&self, replica: usize) -> bool {
        self.health[replica].out_until_ms.load(Ordering::Relaxed) <= self.now_ms()
    }

    fn succeeded(&self, replica: usize, replayed: WalPosition) {
        let health = &self.health[replica];
        health.replayed.fetch_max(replayed.0, Ordering::Relaxed);
        health.backoff_ms.store(0, Ordering::Relaxed);
        health.out_until_ms.store(0, Ordering::Relaxed);
    }

    /// Takes a replica out after a failure, for twice as long as the last time.
    fn failed(&self, replica: usize, error: &RepositoryError) {
        let health = &self.health[replica];
        let backoff = health
            .backoff_ms
            .load(Ordering::Relaxed)
            .saturating_mul(2)
            .clamp(millis(FIRST_BACKOFF), millis(MAX_BACKOFF));
        health.backoff_ms.store(backoff, Ordering::Relaxed);
        health
            .out_until_ms
            .store(self.now_ms() + backoff, Ordering::Relaxed);
        tracing::warn!(replica, %error, backoff_ms = backoff, "replica taken out of reads");
    }

    /// Its staleness now: the last measure plus the time since.
    fn staleness(&self, replica: usize) -> Option<Duration> {
        let health = &self.health[replica];
        let stale = health.stale_ms.load(Ordering::Relaxed);
        (stale != u64::MAX).then(|| {
            let since = self
                .now_ms()
                .saturating_sub(health.measured_at_ms.load(Ordering::Relaxed));
            Duration::from_millis(stale.saturating_add(since))
        })
    }

    /// The replicas in, starting at the next in turn.
    fn in_turn(&self) -> impl Iterator<Item = usize> + '_ {
        let count = self.health.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(move |i| (start + i) % count)
            .filter(|&r| self.is_in(r))
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A worker's view of the replicas: their pools (opened on this worker's runtime) and the
/// state every worker shares.
#[derive(Debug, Clone)]
pub struct Replicas {
    pools: Arc<Vec<Pool>>,
    shared: Arc<Shared>,
}

/// Which server a read goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Primary,
    Replica(usize),
}

/// A snapshot of the routing for metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaStatus {
    /// Reads the primary served in a read scope.
    pub primary_reads: u64,
    /// Reads with a token that no replica could serve in time.
    pub fallbacks: u64,
    /// Per replica: reads served, whether it is in, and its staleness (unknown: `None`).
    pub replicas: Vec<(u64, bool, Option<Duration>)>,
}

impl Replicas {
    /// Replicas reached through `pools` (one per replica, in the order of the settings).
    pub fn new(pools: Vec<Pool>, settings: ReplicaSettings) -> Self {
        let health = (0..pools.len())
            .map(|_| Health {
                stale_ms: AtomicU64::new(u64::MAX),
                ..Health::default()
            })
            .collect();
        Self {
            pools: Arc::new(pools),
            shared: Arc::new(Shared {
                settings,
                epoch: Instant::now(),
                health,
                history: Mutex::new(VecDeque::new()),
                primary_reads: AtomicU64::new(0),
                fallbacks: AtomicU64::new(0),
                next: AtomicUsize::new(0),
            }),
        }
    }

    /// The same replicas and shared state through other pools (another worker's).
    #[must_use]
    pub fn with_pools(&self, pools: Vec<Pool>) -> Self {
        assert_eq!(pools.len(), self.pools.len(), "one pool per replica");
        Self {
            pools: Arc::new(pools),
            shared: Arc::clone(&self.shared),
        }
    }

    /// Reads served per target, fallbacks, and each replica's state.
    pub fn status(&self) -> ReplicaStatus {
        let shared = &self.shared;
        ReplicaStatus {
            primary_reads: shared.primary_reads.load(Ordering::Relaxed),
            fallbacks: shared.fallbacks.load(Ordering::Relaxed),
            replicas: (0..shared.health.len())
                .map(|r| {
                    (
                        shared.health[r].reads.load(Ordering::Relaxed),
                        shared.is_in(r),
                        shared.staleness(r),
                    )
                })
                .collect(),
        }
    }

    /// The primary's current WAL position: read after a write's commit, a consistency token
    /// for it.
    ///
    /// # Errors
    /// When the primary cannot be reached.
    pub async fn primary_position(primary: &Pool) -> Result<WalPosition, RepositoryError> {
        let bound = primary.net_bounds().round_trip;
        position(primary, "pg_current_wal_lsn()", bound).await
    }

    /// Measures the primary and every replica every `check_every`, forever (spawn it once
    /// per process, with pools of its own).
    pub async fn monitor(self, primary: Pool) {
        let mut ticks = tokio::time::interval(self.shared.settings.check_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.measure(&primary).await;
        }
    }

    /// One round of the monitor: the primary's position, then every replica's at once (so a
    /// silent one delays no other's measure), each within [`ReplicaSettings::check_bound`].
    pub async fn measure(&self, primary: &Pool) {
        let shared = &self.shared;
        let bound = shared.settings.check_bound();
        // The sample's time is when it was asked for: every commit acknowledged before then
        // is at or before the position the primary answers.
        let asked = Instant::now();
        match position(primary, "pg_current_wal_lsn()", bound).await {
            Ok(at) => {
                let mut history = shared
                    .history
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                history.push_back((asked, at));
                // Enough history to tell any staleness up to twice the bound.
                let keep = shared.settings.max_lag * 2 + shared.settings.check_every;
                while history
                    .front()
                    .is_some_and(|(when, _)| when.elapsed() > keep)
                    && history.len() > 1
                {
                    history.pop_front();
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read the primary's WAL position"),
        }
        let checks = (0..self.pools.len())
            .filter(|&replica| shared.is_in(replica))
            .map(|replica| async move {
                match self.replayed(replica, bound).await {
                    Ok(replayed) => {
                        let stale = self.staleness_of(replayed);
                        let health = &shared.health[replica];
                        health
                            .stale_ms
                            .store(stale.map_or(u64::MAX, millis), Ordering::Relaxed);
                        health
                            .measured_at_ms
                            .store(shared.now_ms(), Ordering::Relaxed);
                    }
                    Err(error) => shared.failed(replica, &error),
                }
            });
        futures::future::join_all(checks).await;
    }

    /// How stale a server that replayed up to `replayed` is, by the primary's history:
    /// `now - t` for the latest sample at `t` it has replayed past; `None` when it has
    /// replayed past none of them.
    fn staleness_of(&self, replayed: WalPosition) -> Option<Duration> {
        let history = self
            .shared
            .history
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        history
            .iter()
            .rev()
            .find(|(_, at)| *at <= replayed)
            .map(|(when, _)| when.elapsed())
    }

    /// Asks a replica how far it has replayed, within `bound` (and records it).
    async fn replayed(
        &self,
        replica: usize,
        bound: Duration,
    ) -> Result<WalPosition, RepositoryError> {
        let replayed = position(&self.pools[replica], "pg_last_wal_replay_lsn()", bound).await?;
        self.shared.succeeded(replica, replayed);
        Ok(replayed)
    }

    /// Where a read with `token` (or without) goes, waiting for a replica when needed.
    pub(crate) async fn choose(&self, token: Option<WalPosition>) -> Target {
        let shared = &self.shared;
        let chosen = match token {
            None => {
                let fresh = shared.in_turn().find(|&r| {
                    shared
                        .staleness(r)
                        .is_some_and(|stale| stale <= shared.settings.max_lag)
                });
                fresh.map_or(Target::Primary, Target::Replica)
            }
            Some(token) => self.past(token).await,
        };
        match chosen {
            Target::Primary => shared.primary_reads.fetch_add(1, Ordering::Relaxed),
            Target::Replica(r) => shared.health[r].reads.fetch_add(1, Ordering::Relaxed),
        };
        chosen
    }

    /// A replica that has replayed past `token`, waiting up to `wait`; else the primary.
    async fn past(&self, token: WalPosition) -> Target {
        let shared = &self.shared;
        if token == UNREADABLE {
            return Target::Primary;
        }
        let known = shared
            .in_turn()
            .find(|&r| shared.health[r].replayed.load(Ordering::Relaxed) >= token.0);
        if let Some(replica) = known {
            return Target::Replica(replica);
        }
        let deadline = Instant::now() + shared.settings.wait;
        loop {
            let candidates: Vec<usize> = shared.in_turn().collect();
            if candidates.is_empty() {
                break;
            }
            for replica in candidates {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.replayed(replica, left.max(WAIT_STEP)).await {
                    Ok(replayed) if replayed >= token => return Target::Replica(replica),
                    Ok(_) => {}
                    Err(error) => shared.failed(replica, &error),
                }
            }
            if Instant::now() + WAIT_STEP > deadline {
                break;
            }
            tokio::time::sleep(WAIT_STEP).await;
        }
        shared.fallbacks.fetch_add(1, Ordering::Relaxed);
        Target::Primary
    }

    /// How many replicas there are.
    pub(crate) fn count(&self) -> usize {
        self.shared.health.len()
    }

    /// The pool of a replica.
    pub(crate) fn pool(&self, replica: usize) -> &Pool {
        &self.pools[replica]
    }

    /// Takes a replica out after a read failed on it.
    pub(crate) fn failed(&self, replica: usize, error: &RepositoryError) {
        self.shared.failed(replica, error);
    }
}

/// A WAL position `function` returns on a connection of `pool`, within `bound`.
async fn position(
    pool: &Pool,
    function: &str,
    bound: Duration,
) -> Result<WalPosition, RepositoryError> {
    #[derive(QueryableByName)]
    struct Position {
        #[diesel(sql_type = Nullable<BigInt>)]
        at: Option<i64>,
    }
    let sql = format!("SELECT ({function} - '0/0'::pg_lsn)::bigint AS at");
    let row: Position = pool
        .within(bound, async |conn| {
            pool.wrap()
                .run(conn, async |conn| {
                    complete::one_row(diesel::sql_query(sql.as_str()), conn)
                        .await
                        .map_err(from_diesel)
                })
                .await
        })
        .await?;
    row.at
        .and_then(|at| u64::try_from(at).ok())
        .map(WalPosition)
        .ok_or_else(|| RepositoryError::Unavailable(format!("{function} is null: not a replica")))
}

/// The token of a read scope whose client sent one that is not a WAL position.
const UNREADABLE: WalPosition = WalPosition(u64::MAX);

/// One request's reads: the client's token, and the server its first read chose (kept in
/// the request's [`ReadAffinity`], which every port scoped to it shares), which serves the
/// rest of them (see [`crate::RoutedReads`]).
#[derive(Debug)]
pub(crate) struct ReadScope {
    token: Option<WalPosition>,
    affinity: ReadAffinity,
}

/// A target as a [`ReadAffinity`] number: 0 the primary, `r + 1` replica `r`.
fn number_of(target: Target) -> u32 {
    match target {
        Target::Primary => 0,
        Target::Replica(r) => u32::try_from(r + 1).unwrap_or(0),
    }
}

impl ReadScope {
    /// The scope of a request whose client sent `token` (a consistency token from a write's
    /// answer), or none. A token that is not a WAL position sends the reads to the primary.
    pub(crate) fn new(token: Option<&str>, affinity: ReadAffinity) -> Self {
        let token = match token.map(WalPosition::parse) {
            None => None,
            Some(Some(position)) => Some(position),
            // Unreadable: only the primary is sure to be past it.
            Some(None) => Some(UNREADABLE),
        };
        Self { token, affinity }
    }

    /// Where the scope's reads go: the server its first read chose.
    pub(crate) async fn target(&self, replicas: &Replicas) -> Target {
        match self.affinity.get() {
            Some(0) => return Target::Primary,
            Some(n) if (n as usize) <= replicas.shared.health.len() => {
                return Target::Replica(n as usize - 1);
            }
            _ => {}
        }
        let chosen = replicas.choose(self.token).await;
        self.affinity.set(number_of(chosen));
        chosen
    }

    /// After a read failed on a replica, the rest of the request reads the primary.
    pub(crate) fn fell_back(&self) {
        self.affinity.set(number_of(Target::Primary));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ReplicaSettings {
        ReplicaSettings {
            wait: Duration::from_millis(50),
            max_lag: Duration::from_millis(1000),
            check_every: Duration::from_millis(100),
        }
    }

    /// No pools: what is tested here never opens a connection.
    fn replicas(count: usize) -> Replicas {
        let replicas = Replicas::new(Vec::new(), settings());
        let health = (0..count)
            .map(|_| Health {
                stale_ms: AtomicU64::new(u64::MAX),
                ..Health::default()
            })
            .collect();
        Replicas {
            pools: replicas.pools,
            shared: Arc::new(Shared {
                health,
                ..Arc::into_inner(replicas.shared).unwrap()
            }),
        }
    }

    fn sampled(replicas: &Replicas, ago: Duration, at: u64) {
        replicas
            .shared
            .history
            .lock()
            .unwrap()
            .push_back((Instant::now() - ago, WalPosition(at)));
    }

    #[test]
    fn a_measure_may_take_as_long_as_the_lag_bound_when_that_is_longer_than_the_interval() {
        let settings = settings();
        assert_eq!(settings.check_bound(), Duration::from_millis(1000));
        let slow_checks = ReplicaSettings {
            check_every: Duration::from_millis(2000),
            ..settings
        };
        assert_eq!(slow_checks.check_bound(), Duration::from_millis(2000));
    }

    #[test]
    fn a_replica_is_as_stale_as_the_newest_primary_position_it_has_replayed() {
        let replicas = replicas(1);
        sampled(&replicas, Duration::from_millis(900), 100);
        sampled(&replicas, Duration::from_millis(500), 200);
        sampled(&replicas, Duration::from_millis(100), 300);
        let stale = |at| replicas.staleness_of(WalPosition(at));
        assert_eq!(stale(99), None, "behind every sample: unknown");
        assert!(stale(150).unwrap() >= Duration::from_millis(900));
        assert!(stale(250).unwrap() >= Duration::from_millis(500));
        assert!(stale(250).unwrap() < Duration::from_millis(900));
        assert!(stale(300).unwrap() < Duration::from_millis(500));
        assert!(
            stale(400).unwrap() < Duration::from_millis(500),
            "ahead of the last sample"
        );
    }

    #[tokio::test]
    async fn a_read_without_a_token_goes_only_to_a_replica_measured_within_the_bound() {
        let replicas = replicas(2);
        assert_eq!(
            replicas.choose(None).await,
            Target::Primary,
            "never measured"
        );
        let measured = |replica: usize, stale_ms: u64| {
            let health = &replicas.shared.health[replica];
            health.stale_ms.store(stale_ms, Ordering::Relaxed);
            health
                .measured_at_ms
                .store(replicas.shared.now_ms(), Ordering::Relaxed);
        };
        measured(0, 5000);
        assert_eq!(replicas.choose(None).await, Target::Primary, "too stale");
        measured(1, 10);
        for _ in 0..4 {
            assert_eq!(replicas.choose(None).await, Target::Replica(1));
        }
        replicas.failed(1, &RepositoryError::Unavailable("down".into()));
        assert_eq!(replicas.choose(None).await, Target::Primary, "taken out");
        let status = replicas.status();
        assert_eq!((status.primary_reads, status.replicas[1].0), (3, 4));
        assert!(!status.replicas[1].1);
    }

    #[tokio::test]
    async fn a_read_with_a_token_takes_a_replica_known_to_have_replayed_past_it() {
        let replicas = replicas(1);
        replicas.shared.succeeded(0, WalPosition(500));
        assert_eq!(
            replicas.choose(Some(WalPosition(500))).await,
            Target::Replica(0)
        );
        // Past what is known, and the replica cannot be asked (no pool): out, so the
        // primary serves it and the fallback is counted.
        replicas.failed(0, &RepositoryError::Unavailable("down".into()));
        assert_eq!(
            replicas.choose(Some(WalPosition(501))).await,
            Target::Primary
        );
        assert_eq!(replicas.status().fallbacks, 1);
    }

    #[tokio::test]
    async fn a_scope_with_an_unreadable_token_reads_the_primary_and_keeps_its_first_choice() {
        let replicas = replicas(1);
        replicas.shared.succeeded(0, WalPosition(u64::MAX - 1));
        let unreadable = ReadScope::new(Some("not-a-position"), ReadAffinity::default());
        assert_eq!(unreadable.target(&replicas).await, Target::Primary);
        let affinity = ReadAffinity::default();
        let scope = ReadScope::new(Some("0/10"), affinity.clone());
        let (first, second) = (scope.target(&replicas).await, scope.target(&replicas).await);
        assert_eq!((first, second), (Target::Replica(0), Target::Replica(0)));
        // Another port scoped to the same request reads the same server.
        let beside = ReadScope::new(Some("0/10"), affinity);
        assert_eq!(beside.target(&replicas).await, Target::Replica(0));
        scope.fell_back();
        assert_eq!(
            scope.target(&replicas).await,
            Target::Primary,
            "the rest of the scope reads the primary"
        );
    }

    #[test]
    fn wal_positions_read_and_print_as_postgres_does() {
        let at = WalPosition::parse("16/B374D848").unwrap();
        assert_eq!(at.0, 0x16_B374_D848);
        assert_eq!(at.to_string(), "16/B374D848");
        assert!(WalPosition::parse("0/0").unwrap() < at);
        assert_eq!(WalPosition::parse("FFFFFFFF/FFFFFFFF"), Some(UNREADABLE));
        for bad in ["", "16", "x/1", "1/100000000", "-1/2"] {
            assert_eq!(WalPosition::parse(bad), None, "{bad}");
        }
    }
}
