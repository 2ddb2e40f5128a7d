//! Request coalescing that never answers with older data than the request could see.
//!
//! A plain single-flight (join whatever computation is running) would hand a request a
//! result computed from a database snapshot taken *before* it arrived, and miss a write
//! acknowledged in between: a client that creates a customer and then asks would not see
//! it. Here a request never joins a computation that has started. It joins the *next*
//! one, which starts when the running one ends, and which every request that arrives in
//! the meantime shares. So:
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
//! the computation runs with the merged input. If the request driving a computation is
//! dropped (its client went away), another request of the same batch takes it over.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::OnceCell;

/// Shares computations between the requests that arrive while one runs. See the module.
pub struct Coalescer<I, V> {
    /// The batch that has not started yet: new requests join it.
    pending: Mutex<Option<Arc<Batch<I, V>>>>,
    /// Held while a batch computes: one computation at a time.
    running: tokio::sync::Mutex<()>,
    merge: fn(&mut I, I),
    requests: AtomicU64,
    runs: AtomicU64,
}

impl<I, V> std::fmt::Debug for Coalescer<I, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer")
            .field("requests", &self.requests.load(Ordering::Relaxed))
            .field("runs", &self.runs.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The requests that share one computation.
struct Batch<I, V> {
    input: Mutex<I>,
    output: OnceCell<V>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; if something did, the data is still whole.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<I: Clone, V: Clone> Coalescer<I, V> {
    /// A coalescer that folds each joining request's input into its batch's with `merge`.
    #[must_use]
    pub fn new(merge: fn(&mut I, I)) -> Self {
        Self {
            pending: Mutex::new(None),
            running: tokio::sync::Mutex::new(()),
            merge,
            requests: AtomicU64::new(0),
            runs: AtomicU64::new(0),
        }
    }

    /// The answer of a computation that starts after this call began: the next batch's,
    /// joined with every request that arrives before it starts. `compute` is called with
    /// the batch's merged input by one of its requests (not necessarily this one).
    pub async fn run<F, Fut>(&self, input: I, compute: F) -> V
    where
        F: FnOnce(I) -> Fut,
        Fut: Future<Output = V>,
    {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let batch = {
            let mut pending = lock(&self.pending);
            match pending.as_ref() {
                Some(batch) => {
                    (self.merge)(&mut lock(&batch.input), input);
                    Arc::clone(batch)
                }
                None => {
                    let batch = Arc::new(Batch {
                        input: Mutex::new(input),
                        output: OnceCell::new(),
                    });
                    *pending = Some(Arc::clone(&batch));
                    batch
                }
            }
        };
        batch
            .output
            .get_or_init(|| async {
                let _turn = self.running.lock().await;
                // The batch starts: later requests form the next one. (If a dropped request
                // had started it already, another member finishes it: all arrived before.)
                let input = {
                    let mut pending = lock(&self.pending);
                    if pending.as_ref().is_some_and(|p| Arc::ptr_eq(p, &batch)) {
                        *pending = None;
                    }
                    lock(&batch.input).clone()
                };
                self.runs.fetch_add(1, Ordering::Relaxed);
                compute(input).await
            })
            .await
            .clone()
    }

    /// Requests answered so far, and computations run for them.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.runs.load(Ordering::Relaxed),
        )
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
}
