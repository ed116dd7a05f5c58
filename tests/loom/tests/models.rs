//! loom models of ntwork's concurrency protocols, each over the production
//! code (the runtime built with `--cfg loom`) and the loom kernel. A thread
//! whose queue succeeded then plays the worker for one item (`run_one`), so
//! the routine runs concurrently with the rest of the model without a
//! spinning worker thread. Contexts are loom `Arc`s, so loom also fails a
//! model whose context is leaked; the kernel's books catch a pool block,
//! `IO_WORKITEM` or object reference leaked or freed twice.

#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;
use ntwork::ffi::{FILE_DEVICE_UNKNOWN, NTSTATUS, STATUS_INSUFFICIENT_RESOURCES};
use ntwork::irql::Passive;
use ntwork::{
    ARef, Device, DeviceObject, DeviceOptions, NotQueued, QueueError, ReusableExWorkItem,
    ReusableIoWorkItem, Rundown, WorkQueue, work_item,
};
use ntwork_loom::{
    devices, io_items, model, new_driver, new_object, opened, pool_blocks, references, run_all,
    run_one, unload,
};

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

/// A reusable item shared the way the kernel holds it (a std `Arc`).
type Shared = std::sync::Arc<ReusableExWorkItem<borrowed>>;

fn reusable(rundown: &'static Rundown, runs: &Arc<Runs>) -> Shared {
    std::sync::Arc::new(ReusableExWorkItem::new(rundown, Arc::clone(runs)))
}

/// Queues `item`, and if that worked runs one item as a worker would.
fn queue_then_run(item: &Shared) -> Result<(), NotQueued> {
    let outcome = item.queue(WorkQueue::Delayed, &Passive::on_host());
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
    model(
        "rundown_wait_returns_only_after_every_counted_routine",
        || {
            let (rundown, _driver) = opened(Rundown::new());
            let runs = Runs::new();
            let queuer = {
                let runs = Arc::clone(&runs);
                thread::spawn(move || {
                    let outcome =
                        once::queue(rundown, runs, WorkQueue::Delayed, &Passive::on_host());
                    if outcome.is_ok() {
                        assert!(run_one());
                    }
                    outcome
                })
            };
            rundown.wait(&Passive::on_host());
            let returned_at_wait = runs.returned();
            match queuer.join().unwrap() {
                Ok(()) => assert_eq!(returned_at_wait, 1, "wait returned before the routine did"),
                Err(QueueError::Unloading(back)) => {
                    assert_eq!(back.started.load(Ordering::SeqCst), 0)
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        },
    );
}

/// Two threads queue one reusable item: the pending flag lets exactly the
/// successful queues through and each runs once; the flag clears before the
/// routine runs, so the second queue may succeed while the first runs.
#[test]
fn a_reusable_item_runs_once_per_successful_queue() {
    model("a_reusable_item_runs_once_per_successful_queue", || {
        let (rundown, _driver) = opened(Rundown::new());
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
        rundown.wait(&Passive::on_host());
    });
}

/// `flush` racing the routine: a queue that returned before the flush
/// started has run to completion when the flush returns.
#[test]
fn flush_returns_only_after_the_routine_returned() {
    model("flush_returns_only_after_the_routine_returned", || {
        let (rundown, _driver) = opened(Rundown::new());
        let runs = Runs::new();
        let item = reusable(rundown, &runs);
        item.queue(WorkQueue::Delayed, &Passive::on_host()).unwrap();
        let worker = thread::spawn(|| assert!(run_one()));
        item.flush(&Passive::on_host());
        assert_eq!(runs.returned(), 1, "flush returned before the routine did");
        worker.join().unwrap();
        rundown.wait(&Passive::on_host());
    });
}

/// `flush` racing a queue and its routine: a queue refused while flushing
/// says so, and once both are done every accepted queue has run exactly once.
#[test]
fn flush_racing_a_queue_loses_no_run() {
    model("flush_racing_a_queue_loses_no_run", || {
        let (rundown, _driver) = opened(Rundown::new());
        let runs = Runs::new();
        let item = reusable(rundown, &runs);
        let queuer = {
            let item = std::sync::Arc::clone(&item);
            thread::spawn(move || queue_then_run(&item))
        };
        item.flush(&Passive::on_host());
        let outcome = queuer.join().unwrap();
        assert!(matches!(outcome, Ok(()) | Err(NotQueued::Flushing)));
        assert_eq!(runs.returned(), usize::from(outcome.is_ok()));
        rundown.wait(&Passive::on_host());
    });
}

/// Two waiters (`Rundown::wait`, the second waiting for the first) racing a
/// queue and its routine: neither returns while the routine runs, and the
/// second is not left waiting (no lost wakeup: the model would not end).
#[test]
fn both_rundown_waiters_return_only_after_the_routine() {
    model("both_rundown_waiters_return_only_after_the_routine", || {
        let (rundown, _driver) = opened(Rundown::new());
        let runs = Runs::new();
        let queuer = {
            let runs = Arc::clone(&runs);
            thread::spawn(move || {
                let outcome = once::queue(rundown, runs, WorkQueue::Delayed, &Passive::on_host());
                if outcome.is_ok() {
                    assert!(run_one());
                }
                outcome.is_ok()
            })
        };
        let waiter = {
            let runs = Arc::clone(&runs);
            thread::spawn(move || {
                rundown.wait(&Passive::on_host());
                runs.returned()
            })
        };
        rundown.wait(&Passive::on_host());
        let returned_here = runs.returned();
        let returned_there = waiter.join().unwrap();
        let queued = usize::from(queuer.join().unwrap());
        assert_eq!(returned_here, queued, "the first wait returned early");
        assert_eq!(returned_there, queued, "the second wait returned early");
        assert!(rundown.is_running_down());
        assert_eq!(pool_blocks(), 0);
    });
}

/// Two threads each wait for the rundown and reopen it (two concurrent
/// flushes do this) while a third queues: the count of work in flight is
/// never lost, so every release matches an acquire and a final wait returns
/// after the routine.
#[test]
fn racing_wait_and_reopen_keep_the_count() {
    model("racing_wait_and_reopen_keep_the_count", || {
        let (rundown, _driver) = opened(Rundown::new());
        let runs = Runs::new();
        let restarters: Vec<_> = (0..2)
            .map(|_| {
                thread::spawn(move || {
                    rundown.wait(&Passive::on_host());
                    rundown.reopen();
                })
            })
            .collect();
        let queued = once::queue(
            rundown,
            Arc::clone(&runs),
            WorkQueue::Delayed,
            &Passive::on_host(),
        )
        .is_ok();
        if queued {
            assert!(run_one());
        }
        for restarter in restarters {
            restarter.join().unwrap();
        }
        rundown.wait(&Passive::on_host());
        assert_eq!(runs.returned(), usize::from(queued));
    });
}

/// A `&'static` reusable Ex item (`queue_static`) queued by two threads while
/// DriverUnload waits: each successful queue runs once, and the wait returns
/// only after every counted run.
#[test]
fn a_static_reusable_item_is_counted_until_its_routine_returned() {
    model(
        "a_static_reusable_item_is_counted_until_its_routine_returned",
        || {
            let (rundown, _driver) = opened(Rundown::new());
            let runs = Runs::new();
            let owned = Box::into_raw(Box::new(ReusableExWorkItem::<borrowed>::new(
                rundown,
                Arc::clone(&runs),
            )));
            // SAFETY: freed below, after every thread using it has been joined.
            let item: &'static ReusableExWorkItem<borrowed> = unsafe { &*owned };
            let queuers: Vec<_> = (0..2)
                .map(|_| {
                    thread::spawn(move || {
                        let outcome = item.queue_static(WorkQueue::Delayed, &Passive::on_host());
                        if outcome.is_ok() {
                            assert!(run_one());
                        }
                        outcome
                    })
                })
                .collect();
            rundown.wait(&Passive::on_host());
            let returned_at_wait = runs.returned();
            let mut queued = 0;
            for queuer in queuers {
                match queuer.join().unwrap() {
                    Ok(()) => queued += 1,
                    Err(reason) => {
                        assert!(matches!(
                            reason,
                            NotQueued::AlreadyQueued | NotQueued::Unloading
                        ))
                    }
                }
            }
            assert_eq!(
                returned_at_wait, queued,
                "wait returned before a counted routine did"
            );
            assert_eq!(runs.returned(), queued);
            // SAFETY: from `Box::into_raw` above; nothing uses it any more.
            drop(unsafe { Box::from_raw(owned) });
        },
    );
}

// The Io path: a `ReusableIoWorkItem` on a device, its state word
// (QUEUED / DROPPED / RUNNING count) and its flush.

#[work_item(device)]
fn io_once(_device: &DeviceObject, runs: Arc<Runs>) {
    runs.started.fetch_add(1, Ordering::SeqCst);
    runs.returned.fetch_add(1, Ordering::SeqCst);
}

/// A device of the loom kernel.
fn device() -> &'static DeviceObject {
    // SAFETY: a fresh object address of the loom kernel, never freed.
    unsafe { DeviceObject::from_raw(new_object().cast()) }
}

/// Everything the item took is given back: its pool block, its
/// `IO_WORKITEM`, its references on the device; the contexts were dropped.
fn assert_released(device: &DeviceObject, runs: &Arc<Runs>) {
    assert_eq!(pool_blocks(), 0, "pool block leaked");
    assert_eq!(io_items(), 0, "IO_WORKITEM leaked");
    assert_eq!(
        references(device.as_raw().cast()),
        0,
        "device reference leaked"
    );
    assert_eq!(Arc::strong_count(runs), 1, "a context was not dropped");
}

/// Queues an Io item and, if that worked, runs one item as a worker would.
fn io_queue_then_run(
    item: &ReusableIoWorkItem<io_once>,
    runs: &Arc<Runs>,
) -> Result<(), NotQueued> {
    match item.queue(Arc::clone(runs), WorkQueue::Delayed, &Passive::on_host()) {
        Ok(()) => {
            assert!(run_one(), "a successful queue left an item to run");
            Ok(())
        }
        Err(refused) => Err(refused.reason),
    }
}

/// Two threads queue one reusable Io item: each successful queue runs once
/// with its own context, a refused one gets its context back, and dropping
/// the item afterwards frees it once.
#[test]
fn a_reusable_io_item_runs_once_per_successful_queue() {
    model("a_reusable_io_item_runs_once_per_successful_queue", || {
        let device = device();
        let runs = Runs::new();
        let item = std::sync::Arc::new(
            ReusableIoWorkItem::<io_once>::new(device, &Passive::on_host()).unwrap(),
        );
        let queuers: Vec<_> = (0..2)
            .map(|_| {
                let item = std::sync::Arc::clone(&item);
                let runs = Arc::clone(&runs);
                thread::spawn(move || io_queue_then_run(&item, &runs))
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
        drop(item);
        assert_released(device, &runs);
    });
}

/// The owner drops a queued item while a worker runs it: the block is freed
/// exactly once, by whichever of the two comes last, and only after the
/// routine returned.
#[test]
fn dropping_a_reusable_io_item_while_it_runs_frees_it_once() {
    model(
        "dropping_a_reusable_io_item_while_it_runs_frees_it_once",
        || {
            let device = device();
            let runs = Runs::new();
            let item = ReusableIoWorkItem::<io_once>::new(device, &Passive::on_host()).unwrap();
            item.queue(Arc::clone(&runs), WorkQueue::Delayed, &Passive::on_host())
                .unwrap();
            let worker = thread::spawn(|| assert!(run_one()));
            drop(item);
            worker.join().unwrap();
            assert_eq!(runs.returned(), 1);
            assert_released(device, &runs);
        },
    );
}

/// `flush` racing the Io routine returns only after it returned.
#[test]
fn io_flush_returns_only_after_the_routine_returned() {
    model("io_flush_returns_only_after_the_routine_returned", || {
        let device = device();
        let runs = Runs::new();
        let item = ReusableIoWorkItem::<io_once>::new(device, &Passive::on_host()).unwrap();
        item.queue(Arc::clone(&runs), WorkQueue::Delayed, &Passive::on_host())
            .unwrap();
        let worker = thread::spawn(|| assert!(run_one()));
        item.flush(&Passive::on_host());
        assert_eq!(runs.returned(), 1, "flush returned before the routine did");
        assert!(!item.is_pending());
        worker.join().unwrap();
        drop(item);
        assert_released(device, &runs);
    });
}

/// A port whose routine requeues its own item once, the Arc hand-off of the
/// Io path: the queued context is the only other owner of the state.
struct Port {
    rescan: ReusableIoWorkItem<rescan>,
    runs: Arc<Runs>,
}

#[work_item(device)]
fn rescan(_device: &DeviceObject, port: Arc<Port>) {
    let first = port.runs.started.fetch_add(1, Ordering::SeqCst) == 0;
    if first {
        // The flag cleared before the routine ran, so only a flush refuses.
        if let Err(refused) =
            port.rescan
                .queue(Arc::clone(&port), WorkQueue::Delayed, &Passive::on_host())
        {
            assert_eq!(refused.reason, NotQueued::Flushing);
        }
    }
    port.runs.returned.fetch_add(1, Ordering::SeqCst);
}

fn port(device: &DeviceObject, runs: &Arc<Runs>) -> Arc<Port> {
    Arc::new(Port {
        rescan: ReusableIoWorkItem::new(device, &Passive::on_host()).unwrap(),
        runs: Arc::clone(runs),
    })
}

/// `flush` racing a routine that requeues itself: when it returns nothing is
/// queued or running, and nothing runs after it.
#[test]
fn io_flush_stops_a_self_requeueing_routine() {
    model("io_flush_stops_a_self_requeueing_routine", || {
        let device = device();
        let runs = Runs::new();
        let port = port(device, &runs);
        port.rescan
            .queue(Arc::clone(&port), WorkQueue::Delayed, &Passive::on_host())
            .unwrap();
        let worker = thread::spawn(|| {
            run_all();
        });
        port.rescan.flush(&Passive::on_host());
        let started = runs.started.load(Ordering::SeqCst);
        assert_eq!(
            runs.returned(),
            started,
            "flush returned while the routine ran"
        );
        assert!(
            !port.rescan.is_pending(),
            "flush returned with the item queued"
        );
        worker.join().unwrap();
        assert_eq!(run_all(), 0, "work ran after the flush returned");
        assert_eq!(runs.returned(), started);
        drop(port);
        assert_released(device, &runs);
    });
}

/// The routine holds the last reference to the state that owns its item, so
/// the item is dropped inside its own run: the last run frees it, once.
#[test]
fn a_reusable_io_item_dropped_by_its_own_routine_is_freed_once() {
    model(
        "a_reusable_io_item_dropped_by_its_own_routine_is_freed_once",
        || {
            let device = device();
            let runs = Runs::new();
            let port = port(device, &runs);
            port.rescan
                .queue(Arc::clone(&port), WorkQueue::Delayed, &Passive::on_host())
                .unwrap();
            let worker = thread::spawn(|| {
                run_all();
            });
            drop(port);
            worker.join().unwrap();
            assert_eq!(runs.returned(), 2, "the requeue ran");
            assert_released(device, &runs);
        },
    );
}

/// ntwork's DriverUnload racing a queue and its routine: when the unload
/// returns, an accepted item's routine has returned, and the rundown never
/// opens again: a later `reopen` and a later queue are refused.
#[test]
fn driver_unload_waits_for_every_counted_routine_and_the_rundown_never_reopens() {
    model(
        "driver_unload_waits_for_every_counted_routine_and_the_rundown_never_reopens",
        || {
            let (rundown, driver) = opened(Rundown::new());
            let runs = Runs::new();
            let queuer = {
                let runs = Arc::clone(&runs);
                thread::spawn(move || {
                    let outcome =
                        once::queue(rundown, runs, WorkQueue::Delayed, &Passive::on_host());
                    if outcome.is_ok() {
                        assert!(run_one());
                    }
                    outcome.is_ok()
                })
            };
            unload(driver);
            let returned_at_unload = runs.returned();
            if queuer.join().unwrap() {
                assert_eq!(
                    returned_at_unload, 1,
                    "the unload returned before the routine did"
                );
            }
            assert!(
                !rundown.reopen(),
                "a rundown reopened after the unload waited for it"
            );
            match once::queue(
                rundown,
                Runs::new(),
                WorkQueue::Delayed,
                &Passive::on_host(),
            ) {
                Err(QueueError::Unloading(_)) => {}
                other => panic!("a queue after the unload: {:?}", other.map(|_| ())),
            }
        },
    );
}

/// A subsystem's stop-and-restart (`wait`, then `reopen`) racing ntwork's
/// DriverUnload: whichever order they take, the rundown ends closed for good.
#[test]
fn a_reopen_racing_the_driver_unload_cannot_reopen_after_it() {
    model(
        "a_reopen_racing_the_driver_unload_cannot_reopen_after_it",
        || {
            let (rundown, driver) = opened(Rundown::new());
            let restarter = thread::spawn(move || {
                rundown.wait(&Passive::on_host());
                rundown.reopen()
            });
            unload(driver);
            let _ = restarter.join().unwrap();
            assert!(!rundown.reopen());
            assert!(matches!(
                once::queue(
                    rundown,
                    Runs::new(),
                    WorkQueue::Delayed,
                    &Passive::on_host()
                ),
                Err(QueueError::Unloading(_))
            ));
        },
    );
}

// Typed device extensions: `Device::<E>::create` publishes `E` behind the
// header's guards (a rundown), `DeviceObject::extension` holds one, and
// `Device::delete` runs them down before dropping `E` and `IoDeleteDevice`.

/// What happened to an extension, kept outside it (the extension's own
/// memory is gone once it is dropped).
struct Fate {
    drops: AtomicUsize,
    uses_at_drop: AtomicUsize,
}

/// A device extension that knows whether a guard is using it.
struct Counter {
    uses: AtomicUsize,
    in_use: AtomicBool,
    fate: Arc<Fate>,
}

impl Counter {
    fn new() -> (Self, Arc<Fate>) {
        let fate = Arc::new(Fate {
            drops: AtomicUsize::new(0),
            uses_at_drop: AtomicUsize::new(0),
        });
        let counter = Self {
            uses: AtomicUsize::new(0),
            in_use: AtomicBool::new(false),
            fate: Arc::clone(&fate),
        };
        (counter, fate)
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        assert!(
            !self.in_use.load(Ordering::SeqCst),
            "the extension dropped while a guard used it"
        );
        let uses = self.uses.load(Ordering::SeqCst);
        self.fate.uses_at_drop.store(uses, Ordering::SeqCst);
        self.fate.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Uses the device's `Counter` through a guard, as a DPC would; whether it
/// got one.
fn use_counter(device: &DeviceObject) -> bool {
    let Some(counter) = device.extension::<Counter>(&Passive::on_host()) else {
        return false;
    };
    counter.in_use.store(true, Ordering::SeqCst);
    counter.uses.fetch_add(1, Ordering::SeqCst);
    counter.in_use.store(false, Ordering::SeqCst);
    true
}

/// `Device::delete` racing a DPC that takes the extension: the DPC gets
/// `None`, or its use happened before the extension was dropped (the drop
/// sees it finished); the extension is dropped once; after the delete the
/// lookup returns `None` from the still-referenced object, whose memory the
/// last reference frees.
#[test]
fn a_device_delete_waits_for_every_extension_guard() {
    model("a_device_delete_waits_for_every_extension_guard", || {
        let driver = new_driver();
        let irql = Passive::on_host();
        let (counter, fate) = Counter::new();
        let options = DeviceOptions::new(FILE_DEVICE_UNKNOWN);
        let device = Device::create(driver, counter, options, &irql).unwrap();
        // The DPC's caller keeps the object alive, as a queued DPC's device
        // must be; the guard is taken on the DPC's thread (it is not Send).
        let held = ARef::from(device.object());
        let kept = ARef::from(device.object());
        let dpc = thread::spawn(move || use_counter(&held));
        device.delete(&irql);
        assert_eq!(fate.drops.load(Ordering::SeqCst), 1, "dropped once");
        assert!(
            kept.extension::<Counter>(&irql).is_none(),
            "an extension after the delete"
        );
        let used = dpc.join().unwrap();
        assert_eq!(
            fate.uses_at_drop.load(Ordering::SeqCst),
            usize::from(used),
            "a guard's use not finished when the extension dropped"
        );
        assert_eq!(devices(), 1, "freed while referenced");
        drop(kept);
        assert_eq!(devices(), 0, "the last reference did not free the device");
        assert_eq!(Arc::strong_count(&fate), 1, "the extension was not dropped");
    });
}

/// A port as AddDevice builds it with `create_with`: its reusable Io item is
/// bound to the device it lives in.
struct Poller {
    poll: ReusableIoWorkItem<poll>,
    runs: Arc<Runs>,
}

/// The item's routine reaches the state through its device, as C's routine
/// reads `DeviceExtension`.
#[work_item(device)]
fn poll(device: &DeviceObject, _: ()) {
    let poller = device.extension::<Poller>(&Passive::on_host());
    let poller = poller.expect("the extension is there until the flush returned");
    poller.runs.started.fetch_add(1, Ordering::SeqCst);
    poller.runs.returned.fetch_add(1, Ordering::SeqCst);
}

/// The stop path with an extension's reusable Io item: flush, then delete,
/// racing the routine. The routine finds the extension (the flush waited for
/// it); the delete drops the item (its `IO_WORKITEM`, block and device
/// reference), and the device's memory goes with the queue's reference,
/// which may be the last.
#[test]
fn a_flushed_extension_item_then_device_delete_releases_everything() {
    model(
        "a_flushed_extension_item_then_device_delete_releases_everything",
        || {
            let driver = new_driver();
            let irql = Passive::on_host();
            let runs = Runs::new();
            let options = DeviceOptions::new(FILE_DEVICE_UNKNOWN);
            let device = Device::create_with(driver, options, &irql, |object| {
                let poll = ReusableIoWorkItem::new(object, &irql)
                    .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
                let runs = Arc::clone(&runs);
                Ok::<_, NTSTATUS>(Poller { poll, runs })
            })
            .unwrap();
            device
                .extension()
                .poll
                .queue((), WorkQueue::Delayed, &irql)
                .unwrap();
            let worker = thread::spawn(|| assert!(run_one()));
            device.extension().poll.flush(&irql);
            assert_eq!(runs.returned(), 1, "flush returned before the routine did");
            device.delete(&irql);
            worker.join().unwrap();
            assert_eq!(pool_blocks(), 0, "pool block leaked");
            assert_eq!(io_items(), 0, "IO_WORKITEM leaked");
            assert_eq!(devices(), 0, "device memory leaked");
            assert_eq!(Arc::strong_count(&runs), 1, "the extension was not dropped");
        },
    );
}
