//! loom models of ntwork's concurrency protocols, each over the production
//! code (the runtime built with `--cfg loom`) and the loom kernel. A thread
//! whose queue succeeded then plays the worker for one item (`run_one`), so
//! the routine runs concurrently with the rest of the model without a
//! spinning worker thread.

#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use ntwork::{NotQueued, QueueError, ReusableExWorkItem, Rundown, WorkQueue, work_item};
use ntwork_loom::run_one;

/// Counts routine starts and returns.
struct Runs {
    started: AtomicUsize,
    returned: AtomicUsize,
}

impl Runs {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            started: AtomicUsize::new(0),
            returned: AtomicUsize::new(0),
        })
    }

    fn returned(&self) -> usize {
        self.returned.load(Ordering::SeqCst)
    }
}

#[work_item]
fn once(runs: Arc<Runs>) {
    runs.started.fetch_add(1, Ordering::SeqCst);
    runs.returned.fetch_add(1, Ordering::SeqCst);
}

#[work_item]
fn borrowed(runs: &Arc<Runs>) {
    runs.started.fetch_add(1, Ordering::SeqCst);
    runs.returned.fetch_add(1, Ordering::SeqCst);
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// A reusable item shared the way the kernel holds it (a std `Arc`).
type Shared = std::sync::Arc<ReusableExWorkItem<borrowed>>;

fn reusable(rundown: &'static Rundown, runs: &Arc<Runs>) -> Shared {
    std::sync::Arc::new(ReusableExWorkItem::new(rundown, Arc::clone(runs)))
}

/// Queues `item`, and if that worked runs one item as a worker would.
fn queue_then_run(item: &Shared) -> Result<(), NotQueued> {
    let outcome = item.queue(WorkQueue::Delayed);
    if outcome.is_ok() {
        assert!(run_one(), "a successful queue left an item to run");
    }
    outcome
}

/// DriverUnload's `Rundown::wait` racing a queue and its routine: when the
/// wait returns, the item was refused (its context handed back) or its
/// routine has returned; never in between.
#[test]
fn rundown_wait_returns_only_after_every_counted_routine() {
    loom::model(|| {
        let rundown = leak(Rundown::new());
        let runs = Runs::new();
        let queuer = {
            let runs = Arc::clone(&runs);
            thread::spawn(move || {
                let outcome = once::queue(rundown, runs, WorkQueue::Delayed);
                if outcome.is_ok() {
                    assert!(run_one());
                }
                outcome
            })
        };
        rundown.wait();
        let returned_at_wait = runs.returned();
        match queuer.join().unwrap() {
            Ok(()) => assert_eq!(returned_at_wait, 1, "wait returned before the routine did"),
            Err(QueueError::Unloading(back)) => assert_eq!(back.started.load(Ordering::SeqCst), 0),
            Err(other) => panic!("unexpected {other:?}"),
        }
    });
}

/// Two threads queue one reusable item: the pending flag lets exactly the
/// successful queues through and each runs once; the flag clears before the
/// routine runs, so the second queue may succeed while the first runs.
#[test]
fn a_reusable_item_runs_once_per_successful_queue() {
    loom::model(|| {
        let rundown = leak(Rundown::new());
        let runs = Runs::new();
        let item = reusable(rundown, &runs);
        let queuers: Vec<_> = (0..2)
            .map(|_| {
                let item = std::sync::Arc::clone(&item);
                thread::spawn(move || queue_then_run(&item))
            })
            .collect();
        let mut queued = 0;
        for queuer in queuers {
            match queuer.join().unwrap() {
                Ok(()) => queued += 1,
                Err(reason) => assert_eq!(reason, NotQueued::AlreadyQueued),
            }
        }
        assert!(queued >= 1, "one of two queues always wins");
        assert_eq!(runs.returned(), queued);
        rundown.wait();
    });
}

/// `flush` racing the routine: a queue that returned before the flush
/// started has run to completion when the flush returns.
#[test]
fn flush_returns_only_after_the_routine_returned() {
    loom::model(|| {
        let rundown = leak(Rundown::new());
        let runs = Runs::new();
        let item = reusable(rundown, &runs);
        item.queue(WorkQueue::Delayed).unwrap();
        let worker = thread::spawn(|| assert!(run_one()));
        item.flush();
        assert_eq!(runs.returned(), 1, "flush returned before the routine did");
        worker.join().unwrap();
        rundown.wait();
    });
}

/// `flush` racing a queue and its routine: a queue refused while flushing
/// says so, and once both are done every accepted queue has run exactly once.
#[test]
fn flush_racing_a_queue_loses_no_run() {
    loom::model(|| {
        let rundown = leak(Rundown::new());
        let runs = Runs::new();
        let item = reusable(rundown, &runs);
        let queuer = {
            let item = std::sync::Arc::clone(&item);
            thread::spawn(move || queue_then_run(&item))
        };
        item.flush();
        let outcome = queuer.join().unwrap();
        assert!(matches!(outcome, Ok(()) | Err(NotQueued::Flushing)));
        assert_eq!(runs.returned(), usize::from(outcome.is_ok()));
        rundown.wait();
    });
}
