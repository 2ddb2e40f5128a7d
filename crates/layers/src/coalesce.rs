//! Single-flight: requests that ask for the same thing at the same time share one
//! computation. The one primitive every speed layer uses; which computation a request may
//! share is chosen when the [`Coalescer`] is built, because which is correct depends on what
//! the key says about the data.
//!
//! **Joining the next computation** ([`Coalescer::new`], [`Coalescer::joining_next`]), for a
//! key that does not name the data (the statistics overview: any request, at any time). A
//! plain single-flight (join whatever computation is running) would hand a request a result
//! computed from a database snapshot taken *before* it arrived, and miss a write
//! acknowledged in between: a client that creates a customer and then asks would not see
//! it. Here a request never joins a computation that has started. It joins the *next* one,
//! which starts when the running one ends, and which every request that arrives in the
//! meantime shares. So:
//!
//! - every answer comes from a computation that started after the request arrived, so it
//!   reflects every write committed before (read-after-write, from any process, as long
//!   as the computation takes its snapshot when it runs, as a query outside any
//!   transaction does);
//! - at most one computation runs at a time and at most one waits, however many requests
//!   come: under load a request waits for at most the rest of the running computation and
//!   its own, and the database does one computation per batch instead of one per request.
//!
//! The inputs of a batch's requests are merged into one ([`Coalescer::new`] says how) and
//! the computation runs with the merged input.
//!
//! **Joining the running computation** ([`Coalescer::joining_running`]), for a key that names
//! the data itself (the search cache's key holds the data version its computation reads).
//! A request joins the computation of its key whether or not it has started: every
//! computation of that key answers alike, so an earlier one is as good as a later one, and
//! a burst of the same request costs one computation.
//!
//! Either way at most one computation per key runs at a time, different keys never wait for
//! each other, and if the request driving a computation is dropped (its client went away),
//! another request of the same batch takes it over. A key with nothing waiting or running
//! takes no memory.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::OnceCell;

/// Which computation of its key a request may share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    /// Only one that has not started: the answer reflects every write before the request.
    Next,
    /// Also one that is running: valid only when the key names the data read.
    Running,
}

/// Shares computations between the requests of one key. See the module.
pub struct Coalescer<I, V, K = ()> {
    join: Join,
    merge: fn(&mut I, I),
    slots: Mutex<HashMap<K, Slot<I, V>>>,
    requests: AtomicU64,
    runs: AtomicU64,
}

impl<I, V, K> std::fmt::Debug for Coalescer<I, V, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer")
            .field("join", &self.join)
            .field("requests", &self.requests.load(Ordering::Relaxed))
            .field("runs", &self.runs.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// One key's state.
struct Slot<I, V> {
    /// The batch new requests of the key join.
    open: Option<Arc<Batch<I, V>>>,
    /// Held while a batch of the key computes: one computation at a time.
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Requests of the key not answered yet: none, and the slot goes.
    members: usize,
}

/// The requests that share one computation.
struct Batch<I, V> {
    input: Mutex<I>,
    output: OnceCell<V>,
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Its requests not answered yet; changed only under the slots' lock.
    members: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; if something did, the data is still whole.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Stops new requests of `key` from joining `batch`.
fn close<K: Hash + Eq, I, V>(
    slots: &mut HashMap<K, Slot<I, V>>,
    key: &K,
    batch: &Arc<Batch<I, V>>,
) {
    if let Some(slot) = slots.get_mut(key)
        && slot
            .open
            .as_ref()
            .is_some_and(|open| Arc::ptr_eq(open, batch))
    {
        slot.open = None;
    }
}

/// A request's membership of its batch, until it is answered or dropped.
struct Member<'a, K: Hash + Eq, I, V> {
    coalescer: &'a Coalescer<I, V, K>,
    key: K,
    batch: Arc<Batch<I, V>>,
}

impl<K: Hash + Eq, I, V> Drop for Member<'_, K, I, V> {
    fn drop(&mut self) {
        let mut slots = lock(&self.coalescer.slots);
        let Some(slot) = slots.get_mut(&self.key) else {
            return;
        };
        slot.members -= 1;
        if slot.members == 0 {
            // Nothing of the key waits or runs.
            slots.remove(&self.key);
        } else if self.batch.members.fetch_sub(1, Ordering::Relaxed) == 1 {
            // The last request of a batch that never finished left: nobody would compute it.
            close(&mut *slots, &self.key, &self.batch);
        }
    }
}

impl<I: Clone, V: Clone> Coalescer<I, V> {
    /// A coalescer for one kind of request, whose requests join the next computation (see
    /// the module), each joining request's input folded into its batch's with `merge`.
    #[must_use]
    pub fn new(merge: fn(&mut I, I)) -> Self {
        Self::joining_next(merge)
    }

    /// The answer of a computation that starts after this call began: the next batch's,
    /// joined with every request that arrives before it starts. `compute` is called with
    /// the batch's merged input by one of its requests (not necessarily this one).
    pub async fn run<F, Fut>(&self, input: I, compute: F) -> V
    where
        F: FnOnce(I) -> Fut,
        Fut: Future<Output = V>,
    {
        self.run_keyed((), input, compute).await
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Coalescer<(), V, K> {
    /// A coalescer whose requests join the computation of their key even while it runs.
    /// Correct only when the key names everything the answer depends on, the data's
    /// version included (see the module).
    #[must_use]
    pub fn joining_running() -> Self {
        Self::with(Join::Running, |(), ()| {})
    }

    /// The answer of the computation of `key` that is running or waiting, or else of a new
    /// one, which `compute` makes (called by one of the requests sharing it).
    pub async fn share<F, Fut>(&self, key: K, compute: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        self.run_keyed(key, (), |()| compute()).await
    }
}

impl<K: Hash + Eq + Clone, I: Clone, V: Clone> Coalescer<I, V, K> {
    /// [`Coalescer::new`] for several kinds of request: requests join the next computation
    /// of their own key.
    #[must_use]
    pub fn joining_next(merge: fn(&mut I, I)) -> Self {
        Self::with(Join::Next, merge)
    }

    fn with(join: Join, merge: fn(&mut I, I)) -> Self {
        Self {
            join,
            merge,
            slots: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            runs: AtomicU64::new(0),
        }
    }

    /// The answer for `key` and `input`, shared with the other requests of `key` as the
    /// coalescer was built to (see [`Coalescer::run`] and [`Coalescer::share`]).
    pub async fn run_keyed<F, Fut>(&self, key: K, input: I, compute: F) -> V
    where
        F: FnOnce(I) -> Fut,
        Fut: Future<Output = V>,
    {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let member = self.join(key, input);
        let batch = &member.batch;
        batch
            .output
            .get_or_init(|| async {
                let _turn = batch.turn.lock().await;
                // The batch starts. Joining the next computation, later requests form the
                // next batch. (If a dropped request had started it already, another member
                // finishes it: all arrived before.)
                let input = {
                    let mut slots = lock(&self.slots);
                    if self.join == Join::Next {
                        close(&mut slots, &member.key, batch);
                    }
                    lock(&batch.input).clone()
                };
                self.runs.fetch_add(1, Ordering::Relaxed);
                let output = compute(input).await;
                if self.join == Join::Running {
                    close(&mut lock(&self.slots), &member.key, batch);
                }
                output
            })
            .await
            .clone()
    }

    /// Joins the open batch of `key`, or opens one.
    fn join(&self, key: K, input: I) -> Member<'_, K, I, V> {
        let mut slots = lock(&self.slots);
        let slot = slots.entry(key.clone()).or_insert_with(|| Slot {
            open: None,
            turn: Arc::new(tokio::sync::Mutex::new(())),
            members: 0,
        });
        slot.members += 1;
        let batch = match slot.open.as_ref() {
            Some(batch) => {
                (self.merge)(&mut lock(&batch.input), input);
                batch.members.fetch_add(1, Ordering::Relaxed);
                Arc::clone(batch)
            }
            None => {
                let batch = Arc::new(Batch {
                    input: Mutex::new(input),
                    output: OnceCell::new(),
                    turn: Arc::clone(&slot.turn),
                    members: AtomicUsize::new(1),
                });
                slot.open = Some(Arc::clone(&batch));
                batch
            }
        };
        Member {
            coalescer: self,
            key,
            batch,
        }
    }

    /// Requests answered so far, and computations run for them.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.runs.load(Ordering::Relaxed),
        )
    }

    /// Keys with a request waiting or a computation running.
    pub fn busy_keys(&self) -> usize {
        lock(&self.slots).len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;
    use std::time::Duration;

    use futures::FutureExt;
    use tokio::sync::oneshot;

    use super::*;

    fn keep_larger(held: &mut u32, new: u32) {
        *held = (*held).max(new);
    }

    /// Lets a test start a computation and hold it until released.
    struct Gate(Mutex<Vec<oneshot::Sender<()>>>);

    impl Gate {
        fn new() -> Self {
            Self(Mutex::new(Vec::new()))
        }
        fn hold(&self) -> oneshot::Receiver<()> {
            let (tx, rx) = oneshot::channel();
            lock(&self.0).push(tx);
            rx
        }
        fn held(&self) -> usize {
            lock(&self.0).len()
        }
        fn release_all(&self) {
            for tx in lock(&self.0).drain(..) {
                let _ = tx.send(());
            }
        }
    }

    async fn until(what: impl Fn() -> bool) {
        for _ in 0..1000 {
            if what() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("the condition never held");
    }

    #[tokio::test]
    async fn one_request_alone_computes_with_its_own_input() {
        let coalescer = Coalescer::new(keep_larger);
        let answer = coalescer.run(7, |input| async move { input * 10 }).await;
        assert_eq!(answer, 70);
        assert_eq!(coalescer.counts(), (1, 1));
        // The next request computes again: no answer is kept once given.
        let answer = coalescer.run(8, |input| async move { input * 10 }).await;
        assert_eq!(answer, 80);
        assert_eq!(coalescer.counts(), (2, 2));
    }

    #[tokio::test]
    async fn a_request_never_gets_the_answer_of_a_computation_that_started_before_it() {
        let coalescer = Arc::new(Coalescer::new(keep_larger));
        let gate = Arc::new(Gate::new());
        // The "database": a counter that a write moves; a computation reads it when it
        // starts and answers after the gate opens.
        let data = Arc::new(AtomicU32::new(1));
        let compute = {
            let (gate, data) = (Arc::clone(&gate), Arc::clone(&data));
            move |_input: u32| {
                let (gate, data) = (Arc::clone(&gate), Arc::clone(&data));
                async move {
                    let seen = data.load(Ordering::SeqCst);
                    let _ = gate.hold().await;
                    seen
                }
            }
        };
        let first = tokio::spawn({
            let (coalescer, compute) = (Arc::clone(&coalescer), compute.clone());
            async move { coalescer.run(1, compute).await }
        });
        until(|| gate.held() == 1).await;
        // A write is acknowledged while the first computation runs, then two requests come.
        data.store(2, Ordering::SeqCst);
        let later: Vec<_> = (2..4)
            .map(|input| {
                let (coalescer, compute) = (Arc::clone(&coalescer), compute.clone());
                tokio::spawn(async move { coalescer.run(input, compute).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(gate.held(), 1, "nothing starts while a computation runs");
        gate.release_all();
        assert_eq!(first.await.unwrap(), 1);
        until(|| gate.held() == 1).await;
        gate.release_all();
        for request in later {
            assert_eq!(
                request.await.unwrap(),
                2,
                "the write before the request shows"
            );
        }
        assert_eq!(
            coalescer.counts(),
            (3, 2),
            "the two later requests shared one run"
        );
    }

    #[tokio::test]
    async fn a_batch_computes_with_its_requests_merged_input() {
        let coalescer = Arc::new(Coalescer::new(keep_larger));
        let gate = Arc::new(Gate::new());
        let compute = {
            let gate = Arc::clone(&gate);
            move |input: u32| {
                let gate = Arc::clone(&gate);
                async move {
                    let _ = gate.hold().await;
                    input
                }
            }
        };
        let first = tokio::spawn({
            let (coalescer, compute) = (Arc::clone(&coalescer), compute.clone());
            async move { coalescer.run(100, compute).await }
        });
        until(|| gate.held() == 1).await;
        let batch: Vec<_> = [5, 9, 3]
            .into_iter()
            .map(|input| {
                let (coalescer, compute) = (Arc::clone(&coalescer), compute.clone());
                tokio::spawn(async move { coalescer.run(input, compute).await })
            })
            .collect();
        until(|| coalescer.counts().0 == 4).await;
        gate.release_all();
        assert_eq!(first.await.unwrap(), 100);
        until(|| gate.held() == 1).await;
        gate.release_all();
        for request in batch {
            assert_eq!(request.await.unwrap(), 9);
        }
    }

    #[tokio::test]
    async fn when_the_driving_request_is_dropped_another_of_its_batch_finishes() {
        let coalescer = Arc::new(Coalescer::new(keep_larger));
        let gate = Arc::new(Gate::new());
        let compute = {
            let gate = Arc::clone(&gate);
            move |input: u32| {
                let gate = Arc::clone(&gate);
                async move {
                    let _ = gate.hold().await;
                    input
                }
            }
        };
        let blocker = tokio::spawn({
            let (coalescer, compute) = (Arc::clone(&coalescer), compute.clone());
            async move { coalescer.run(1, compute).await }
        });
        until(|| gate.held() == 1).await;
        // Two requests form the next batch: the first drives it, the second waits for it.
        let mut driver = Box::pin(coalescer.run(2, compute.clone()));
        assert!((&mut driver).now_or_never().is_none());
        let other = tokio::spawn({
            let (coalescer, compute) = (Arc::clone(&coalescer), compute.clone());
            async move { coalescer.run(3, compute).await }
        });
        until(|| coalescer.counts().0 == 3).await;
        gate.release_all();
        assert_eq!(blocker.await.unwrap(), 1);
        // The driver's turn: it starts computing, and its client goes away.
        for _ in 0..1000 {
            assert!((&mut driver).now_or_never().is_none());
            if gate.held() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(gate.held(), 1, "the driver never started");
        drop(driver);
        until(|| gate.held() == 2).await;
        gate.release_all();
        assert_eq!(other.await.unwrap(), 3, "the batch's merged input");
        assert_eq!(coalescer.counts(), (3, 3));
    }

    /// A computation answering `key * 10` once the gate opens.
    fn held_answer(
        gate: &Arc<Gate>,
    ) -> impl Fn(u32) -> futures::future::BoxFuture<'static, u32> + Clone + use<> {
        let gate = Arc::clone(gate);
        move |key: u32| {
            let gate = Arc::clone(&gate);
            Box::pin(async move {
                let _ = gate.hold().await;
                key * 10
            })
        }
    }

    #[tokio::test]
    async fn joining_running_a_request_shares_the_computation_of_its_key_already_running() {
        let coalescer = Arc::new(Coalescer::<(), u32, u32>::joining_running());
        let gate = Arc::new(Gate::new());
        let compute = held_answer(&gate);
        let requests: Vec<_> = (0..3)
            .map(|_| {
                let (coalescer, compute) = (Arc::clone(&coalescer), compute.clone());
                tokio::spawn(async move { coalescer.share(7, || compute(7)).await })
            })
            .collect();
        until(|| coalescer.counts().0 == 3).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(gate.held(), 1, "one computation for the three");
        gate.release_all();
        for request in requests {
            assert_eq!(request.await.unwrap(), 70);
        }
        assert_eq!(coalescer.counts(), (3, 1));
        assert_eq!(coalescer.busy_keys(), 0, "an answered key takes no memory");
        // Once answered, the key computes again: nothing is kept.
        let again = tokio::spawn({
            let (coalescer, compute) = (Arc::clone(&coalescer), compute.clone());
            async move { coalescer.share(7, || compute(7)).await }
        });
        until(|| gate.held() == 1).await;
        gate.release_all();
        assert_eq!(again.await.unwrap(), 70);
        assert_eq!(coalescer.counts(), (4, 2));
    }

    #[tokio::test]
    async fn different_keys_neither_share_nor_wait_for_each_other() {
        let running = Arc::new(Coalescer::<(), u32, u32>::joining_running());
        let next = Arc::new(Coalescer::<u32, u32, u32>::joining_next(keep_larger));
        let gate = Arc::new(Gate::new());
        let compute = held_answer(&gate);
        let held = tokio::spawn({
            let (running, compute) = (Arc::clone(&running), compute.clone());
            async move { running.share(1, || compute(1)).await }
        });
        let held_next = tokio::spawn({
            let (next, compute) = (Arc::clone(&next), compute.clone());
            async move { next.run_keyed(1, 0, |_| compute(1)).await }
        });
        until(|| gate.held() == 2).await;
        // Key 2 computes (and is answered) while key 1 is held, in both kinds.
        assert_eq!(running.share(2, || async { 20 }).await, 20);
        assert_eq!(next.run_keyed(2, 0, |_| async { 20 }).await, 20);
        assert_eq!(running.busy_keys(), 1);
        assert_eq!(next.busy_keys(), 1);
        gate.release_all();
        assert_eq!(held.await.unwrap(), 10);
        assert_eq!(held_next.await.unwrap(), 10);
        assert_eq!((running.counts(), next.counts()), ((2, 2), (2, 2)));
        assert_eq!((running.busy_keys(), next.busy_keys()), (0, 0));
    }

    #[tokio::test]
    async fn joining_next_per_key_a_running_computation_is_not_shared() {
        let coalescer = Arc::new(Coalescer::<u32, u32, &str>::joining_next(keep_larger));
        let gate = Arc::new(Gate::new());
        let data = Arc::new(AtomicU32::new(1));
        let compute = {
            let (gate, data) = (Arc::clone(&gate), Arc::clone(&data));
            move |_input: u32| {
                let (gate, data) = (Arc::clone(&gate), Arc::clone(&data));
                async move {
                    let seen = data.load(Ordering::SeqCst);
                    let _ = gate.hold().await;
                    seen
                }
            }
        };
        let first = tokio::spawn({
            let (coalescer, compute) = (Arc::clone(&coalescer), compute.clone());
            async move { coalescer.run_keyed("a", 1, compute).await }
        });
        until(|| gate.held() == 1).await;
        data.store(2, Ordering::SeqCst);
        let second = tokio::spawn({
            let (coalescer, compute) = (Arc::clone(&coalescer), compute.clone());
            async move { coalescer.run_keyed("a", 2, compute).await }
        });
        until(|| coalescer.counts().0 == 2).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(gate.held(), 1, "the second waits for its own computation");
        gate.release_all();
        assert_eq!(first.await.unwrap(), 1);
        until(|| gate.held() == 1).await;
        gate.release_all();
        assert_eq!(
            second.await.unwrap(),
            2,
            "the write before the request shows"
        );
    }

    #[tokio::test]
    async fn a_request_dropped_alone_leaves_nothing_behind() {
        for coalescer in [
            Coalescer::<(), u32, u32>::joining_running(),
            Coalescer::<(), u32, u32>::joining_next(|(), ()| {}),
        ] {
            let gate = Arc::new(Gate::new());
            let compute = held_answer(&gate);
            let mut request = Box::pin(coalescer.run_keyed(3, (), |()| compute(3)));
            assert!((&mut request).now_or_never().is_none());
            assert_eq!(gate.held(), 1);
            assert_eq!(coalescer.busy_keys(), 1);
            drop(request);
            assert_eq!(coalescer.busy_keys(), 0);
            // The next request of the key computes anew.
            assert_eq!(coalescer.run_keyed(3, (), |()| async { 31 }).await, 31);
            assert_eq!(coalescer.counts(), (2, 2));
        }
    }
}
