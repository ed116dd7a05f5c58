//! The soundness model on the host executive: counted object references,
//! driver-bound items, reusable Io items, flush and rundown, and what happens
//! when a context's destructor or a routine panics.

use ntwork::irql::Passive;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ntwork::{
    ARef, DeviceObject, DriverObject, ExWorkItem, IoWorkItem, NotQueued, QueueError,
    ReusableExWorkItem, ReusableIoWorkItem, Rundown, WorkQueue, work_item,
};
use ntwork_host::Executive;
use ntwork_suite::{Counted, Tally};

#[test]
fn a_counted_reference_holds_the_device_until_it_drops() {
    let exec = Executive::manual();
    let driver = exec.load_driver("aref.sys");
    let device = driver.create_device();
    let object = ntwork_suite::object(&device);
    let base = device.reference_count();

    let first = ARef::from(object);
    let second = first.clone();
    assert_eq!(device.reference_count(), base + 2);
    assert_eq!(second.as_raw(), device.as_raw(), "the same object");
    drop(first);
    assert_eq!(device.reference_count(), base + 1);
    let raw = ARef::into_raw(second);
    assert_eq!(device.reference_count(), base + 1, "into_raw keeps it");
    // SAFETY: `raw` owns the reference `into_raw` gave up.
    drop(unsafe { ARef::from_raw(raw) });
    assert_eq!(device.reference_count(), base);
    assert_eq!(exec.bug_check(), None);
}

/// Windows's verdict on a leaked reference: no bug check, but the driver
/// never finishes unloading (the device, and so the image, stay). A counted
/// reference released twice is 0x18 (see `host_drivers`).
#[test]
fn a_leaked_counted_reference_keeps_the_device_and_the_image_as_on_windows() {
    let exec = Executive::manual();
    let driver = exec.load_driver("leak-ref.sys");
    let device = driver.create_device();
    core::mem::forget(ARef::from(ntwork_suite::object(&device)));
    driver.unload().unwrap();
    assert!(
        !device.is_freed(),
        "deleted, but the leaked reference keeps it"
    );
    assert!(
        exec.is_image_mapped("leak-ref.sys"),
        "the unload never completes"
    );
    assert_eq!(exec.bug_check(), None, "Windows raises nothing for it");
}

#[test]
fn an_owned_io_item_holds_a_reference_and_gives_it_up_when_freed() {
    let exec = Executive::manual();
    let driver = exec.load_driver("owned.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let item = poll::new(ntwork_suite::object(&device), &Passive::on_host()).unwrap();
    assert_eq!(device.reference_count(), base + 1);
    drop(item);
    assert_eq!(device.reference_count(), base);
    assert_eq!(
        (exec.io_work_items_outstanding(), exec.pool_outstanding()),
        (0, 0)
    );
}

/// Items a routine kept past its call (`RunningIoWorkItem::keep`).
static KEPT: Mutex<Vec<IoWorkItem<poll>>> = Mutex::new(Vec::new());

#[work_item(device)]
fn poll(device: &DeviceObject, tally: Counted, item: IoWorkItem<poll>) {
    assert_eq!(item.object(), device);
    tally.mark_ran();
    KEPT.lock().unwrap().push(item);
}

#[test]
fn a_routine_may_keep_its_item_beyond_the_call_as_a_counted_reference() {
    let exec = Executive::manual();
    let driver = exec.load_driver("keep.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let tally = Tally::new();
    poll::queue(
        ntwork_suite::object(&device),
        Counted::new(&tally, 1),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    assert_eq!(exec.run_until_idle(), 1);
    let kept = KEPT
        .lock()
        .unwrap()
        .pop()
        .expect("the routine kept its item");
    assert_eq!(
        device.reference_count(),
        base + 1,
        "the kept item references the device"
    );
    // Later, from anywhere: queue it again.
    kept.queue(
        Counted::new(&tally, 2),
        WorkQueue::Delayed,
        &Passive::on_host(),
    );
    assert_eq!(exec.run_until_idle(), 1);
    drop(KEPT.lock().unwrap().pop());
    assert_eq!(tally.ran(), 2);
    assert_eq!(device.reference_count(), base);
    assert_eq!(
        (exec.io_work_items_outstanding(), exec.pool_outstanding()),
        (0, 0)
    );
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn a_driver_bound_item_keeps_the_image_after_driver_unload_until_its_routine_returns() {
    let exec = Executive::manual();
    let loaded = exec.load_driver("cache.sys");
    let tally = Tally::new();
    {
        let driver = DriverObject::of(&loaded);
        rebuild_cache::queue(
            driver,
            (Counted::new(&tally, 1), loaded.as_raw() as usize),
            WorkQueue::Delayed,
            &Passive::on_host(),
        )
        .unwrap();
    }
    assert_eq!(loaded.reference_count(), 2, "loaded + the queued item");
    loaded.unload().unwrap();
    assert!(
        exec.is_image_mapped("cache.sys"),
        "the item keeps the image"
    );
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
    assert!(!exec.is_image_mapped("cache.sys"), "gone after the routine");
    assert_eq!(exec.bug_check(), None, "and nothing leaked");
}

#[work_item(device)]
fn carry(_device: &DeviceObject, tally: Counted) {
    tally.mark_ran();
}

#[test]
fn an_item_passes_through_a_pvoid_context_without_allocating() {
    let exec = Executive::manual();
    let driver = exec.load_driver("pvoid.sys");
    let device = driver.create_device();
    let tally = Tally::new();
    let item = carry::new(ntwork_suite::object(&device), &Passive::on_host()).unwrap();
    let (pool, items) = (exec.pool_outstanding(), exec.io_work_items_outstanding());
    // What an IRP completion routine's Context parameter would carry.
    let context: *mut core::ffi::c_void = item.into_raw();
    assert_eq!(
        (exec.pool_outstanding(), exec.io_work_items_outstanding()),
        (pool, items),
        "no allocation for the trip"
    );
    // SAFETY: `context` came from `IoWorkItem::<carry>::into_raw`, taken back once.
    let item = unsafe { IoWorkItem::<carry>::from_raw(context) };
    item.queue(
        Counted::new(&tally, 1),
        WorkQueue::Delayed,
        &Passive::on_host(),
    );
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(tally.ran(), 1);
    assert_eq!(
        (exec.io_work_items_outstanding(), exec.pool_outstanding()),
        (0, 0)
    );
}

/// Deferred work bound to the driver object, not to any device: the queue
/// references the DRIVER_OBJECT, so the image stays until the routine returns.
#[work_item(driver)]
fn rebuild_cache(driver: &DriverObject, context: (Counted, usize)) {
    let (tally, expected) = context;
    assert_eq!(
        driver.as_raw() as usize,
        expected,
        "the routine gets its driver"
    );
    tally.mark_ran();
}

#[test]
fn driver_bound_items_reference_the_driver_object_until_the_routine_returns() {
    let exec = Executive::manual();
    let loaded = exec.load_driver("cache.sys");
    let driver = DriverObject::of(&loaded);
    let tally = Tally::new();
    let item = IoWorkItem::<rebuild_cache>::new(driver, &Passive::on_host()).unwrap();
    item.queue(
        (Counted::new(&tally, 1), loaded.as_raw() as usize),
        WorkQueue::Delayed,
        &Passive::on_host(),
    );
    let reusable = ReusableIoWorkItem::<rebuild_cache>::new(driver, &Passive::on_host()).unwrap();
    reusable
        .queue(
            (Counted::new(&tally, 2), loaded.as_raw() as usize),
            WorkQueue::Delayed,
            &Passive::on_host(),
        )
        .unwrap();
    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!((tally.ran(), tally.dropped()), (2, 2));
    drop(reusable);
    assert_eq!(
        (exec.io_work_items_outstanding(), exec.pool_outstanding()),
        (0, 0)
    );
    assert_eq!(exec.bug_check(), None);
}

/// The device-extension pattern: per-device state holding its reusable item.
struct Port {
    rescan: ReusableIoWorkItem<rescan>,
    /// Runs of the routine.
    runs: AtomicUsize,
    /// Successful queues, from outside and from the routine itself.
    queued: AtomicUsize,
}

/// Requeues itself `hops` more times (as long as the item accepts).
#[work_item(device)]
fn rescan(_device: &DeviceObject, context: (Arc<Port>, u32)) {
    let (port, hops) = context;
    port.runs.fetch_add(1, Ordering::SeqCst);
    if hops > 0
        && port
            .rescan
            .queue(
                (Arc::clone(&port), hops - 1),
                WorkQueue::Delayed,
                &Passive::on_host(),
            )
            .is_ok()
    {
        port.queued.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_reusable_io_item_queued_from_four_threads_runs_once_per_successful_queue() {
    const THREADS: usize = 4;
    const ATTEMPTS: usize = 2_500;
    let exec = Executive::new();
    let driver = exec.load_driver("port.sys");
    let device = driver.create_device();
    let port = Arc::new(Port {
        rescan: ReusableIoWorkItem::new(ntwork_suite::object(&device), &Passive::on_host())
            .unwrap(),
        runs: AtomicUsize::new(0),
        queued: AtomicUsize::new(0),
    });
    let refused = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (exec, port, refused) = (&exec, &port, &refused);
            s.spawn(move || {
                let _bound = exec.enter();
                for i in 0..ATTEMPTS {
                    let hops = ((t + i) % 3) as u32;
                    match port.rescan.queue(
                        (Arc::clone(port), hops),
                        WorkQueue::Delayed,
                        &Passive::on_host(),
                    ) {
                        Ok(()) => {
                            port.queued.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(back) => {
                            assert_eq!(back.reason, NotQueued::AlreadyQueued);
                            refused.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            });
        }
    });
    exec.wait_idle();
    port.rescan.flush(&Passive::on_host());
    assert_eq!(exec.bug_check(), None);
    let (runs, queued) = (
        port.runs.load(Ordering::SeqCst),
        port.queued.load(Ordering::SeqCst),
    );
    assert_eq!(runs, queued, "exactly one run per successful queue");
    assert!(
        runs > 0 && refused.load(Ordering::SeqCst) > 0,
        "both outcomes happened"
    );
    assert_eq!(
        Arc::strong_count(&port),
        1,
        "every queued context was dropped"
    );
    drop(port);
    assert_eq!(
        (exec.io_work_items_outstanding(), exec.pool_outstanding()),
        (0, 0)
    );
}

/// A routine that takes a while, then marks that it returned.
struct Slow {
    item: ReusableIoWorkItem<slow>,
    returned: AtomicBool,
}

#[work_item(device)]
fn slow(_device: &DeviceObject, state: Arc<Slow>) {
    std::thread::sleep(Duration::from_millis(50));
    state.returned.store(true, Ordering::SeqCst);
}

#[test]
fn flush_returns_only_after_the_routine_returned_and_refuses_work_meanwhile() {
    let exec = Executive::new();
    let driver = exec.load_driver("slow.sys");
    let device = driver.create_device();
    let state = Arc::new(Slow {
        item: ReusableIoWorkItem::new(ntwork_suite::object(&device), &Passive::on_host()).unwrap(),
        returned: AtomicBool::new(false),
    });
    state
        .item
        .queue(Arc::clone(&state), WorkQueue::Delayed, &Passive::on_host())
        .unwrap();
    std::thread::scope(|s| {
        let flusher = s.spawn(|| {
            let _bound = exec.enter();
            state.item.flush(&Passive::on_host());
            state.returned.load(Ordering::SeqCst)
        });
        // While the flush waits, the item takes no new work.
        while !flusher.is_finished() {
            if let Err(back) =
                state
                    .item
                    .queue(Arc::clone(&state), WorkQueue::Delayed, &Passive::on_host())
                && back.reason == NotQueued::Flushing
            {
                break;
            }
            std::thread::yield_now();
        }
        assert!(
            flusher.join().unwrap(),
            "flush returned before the routine did"
        );
    });
    exec.wait_idle();
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn a_reusable_io_item_dropped_while_queued_is_freed_by_its_last_run() {
    let exec = Executive::manual();
    let driver = exec.load_driver("dropped.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let state = Arc::new(Slow {
        item: ReusableIoWorkItem::new(ntwork_suite::object(&device), &Passive::on_host()).unwrap(),
        returned: AtomicBool::new(false),
    });
    state
        .item
        .queue(Arc::clone(&state), WorkQueue::Delayed, &Passive::on_host())
        .unwrap();
    // The only other owner of the state is the queued context.
    drop(state);
    assert_eq!(
        exec.io_work_items_outstanding(),
        1,
        "still queued, not freed"
    );
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        (exec.io_work_items_outstanding(), exec.pool_outstanding()),
        (0, 0)
    );
    assert_eq!(device.reference_count(), base);
    assert_eq!(exec.bug_check(), None);
}

static UNLOAD: Rundown = Rundown::new();

/// Marks the moment its routine is past its last instruction of driver code.
static SLOW_EX_DONE: AtomicBool = AtomicBool::new(false);

#[work_item]
fn slow_ex(_: Counted) {
    std::thread::sleep(Duration::from_millis(50));
    SLOW_EX_DONE.store(true, Ordering::SeqCst);
}

#[test]
fn a_rundown_waits_for_running_ex_work_and_then_refuses_new_work() {
    let exec = Executive::new();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "a_rundown_waits_for_running_ex_work_and_.sys",
        &[&UNLOAD],
    );
    let tally = Tally::new();
    slow_ex::queue(
        &UNLOAD,
        Counted::new(&tally, 1),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    UNLOAD.wait(&Passive::on_host());
    assert!(
        SLOW_EX_DONE.load(Ordering::SeqCst),
        "wait returned before the routine"
    );
    assert_eq!(
        tally.dropped(),
        1,
        "the context was dropped inside the rundown"
    );
    assert!(UNLOAD.is_running_down());
    let refused = slow_ex::queue(
        &UNLOAD,
        Counted::new(&tally, 2),
        WorkQueue::Delayed,
        &Passive::on_host(),
    );
    let Err(QueueError::Unloading(back)) = refused else {
        panic!("queued after the rundown: {refused:?}");
    };
    assert_eq!(back.id, 2, "the context came back");
    drop(back);
    // A driver that restarts the subsystem reopens it.
    assert!(UNLOAD.reopen());
    slow_ex::queue(
        &UNLOAD,
        Counted::new(&tally, 3),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    UNLOAD.wait(&Passive::on_host());
    assert_eq!(tally.ran(), 0, "Counted::mark_ran is not called by slow_ex");
    assert_eq!(tally.dropped(), 3);
    exec.wait_idle();
    assert_eq!((exec.bug_check(), exec.pool_outstanding()), (None, 0));
}

static FLUSHED: Rundown = Rundown::new();

#[work_item]
fn tick(count: &AtomicUsize) {
    std::thread::sleep(Duration::from_millis(20));
    count.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn flushing_a_reusable_ex_item_waits_for_its_routine() {
    let exec = Executive::new();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "flushing_a_reusable_ex_item_waits_for_it.sys",
        &[&FLUSHED],
    );
    let item = Arc::new(ReusableExWorkItem::<tick>::new(
        &FLUSHED,
        AtomicUsize::new(0),
    ));
    item.queue(WorkQueue::Delayed, &Passive::on_host()).unwrap();
    item.flush(&Passive::on_host());
    assert_eq!(item.context().load(Ordering::SeqCst), 1);
    assert!(!item.is_pending());
    item.queue(WorkQueue::Delayed, &Passive::on_host()).unwrap();
    exec.wait_idle();
    assert_eq!(item.context().load(Ordering::SeqCst), 2);
    FLUSHED.wait(&Passive::on_host());
    assert_eq!(
        item.queue(WorkQueue::Delayed, &Passive::on_host()),
        Err(NotQueued::Unloading)
    );
    assert_eq!(exec.bug_check(), None);
}

/// A context whose destructor panics.
struct ExplodesOnDrop(Arc<AtomicUsize>);

impl Drop for ExplodesOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("context destructor (expected by the test)");
    }
}

#[work_item]
fn owns_explosive(_: ExplodesOnDrop) {}

#[test]
fn an_unqueued_item_whose_context_panics_in_drop_still_frees_its_block() {
    let exec = Executive::manual();
    let drops = Arc::new(AtomicUsize::new(0));
    let item: ExWorkItem<owns_explosive> =
        owns_explosive::new(ExplodesOnDrop(Arc::clone(&drops)), &Passive::on_host()).unwrap();
    assert_eq!(exec.pool_outstanding(), 1);
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(item)));
    assert!(unwound.is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(exec.pool_outstanding(), 0, "the block was freed first");
}

static EXPLOSIVE: Rundown = Rundown::new();

#[work_item]
fn borrows_explosive(_: &ExplodesOnDrop) {}

#[test]
fn a_panic_in_the_last_arc_drop_of_a_reusable_item_stays_inside_the_routine() {
    let exec = Executive::manual();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "a_panic_in_the_last_arc_drop_of_a_reusab.sys",
        &[&EXPLOSIVE],
    );
    let drops = Arc::new(AtomicUsize::new(0));
    let item = Arc::new(ReusableExWorkItem::<borrows_explosive>::new(
        &EXPLOSIVE,
        ExplodesOnDrop(Arc::clone(&drops)),
    ));
    item.queue(WorkQueue::Delayed, &Passive::on_host()).unwrap();
    drop(item); // the queue holds the last reference
    assert!(exec.run_next(), "the panic did not escape to the test");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(
        exec.bug_check().is_some(),
        "the host reports the panic in the routine"
    );
    // The rundown was released after the drop, despite the panic.
    EXPLOSIVE.wait(&Passive::on_host());
}

static STATED: Rundown = Rundown::new();

/// Marks the moment its routine is past its last instruction of driver code.
static STATED_DONE: AtomicBool = AtomicBool::new(false);

/// Names its rundown in its type: `queue` takes none, and the trampoline
/// releases `STATED` itself.
#[work_item(rundown = STATED)]
fn slow_stated(context: Counted) {
    std::thread::sleep(Duration::from_millis(50));
    context.mark_ran();
    STATED_DONE.store(true, Ordering::SeqCst);
}

#[test]
fn a_rundown_named_in_the_routine_counts_its_items_and_then_refuses_them() {
    let exec = Executive::new();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "a_rundown_named_in_the_routine_counts_it.sys",
        &[&STATED],
    );
    let tally = Tally::new();
    slow_stated::queue(
        Counted::new(&tally, 1),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    STATED.wait(&Passive::on_host());
    assert!(
        STATED_DONE.load(Ordering::SeqCst),
        "wait returned before the routine"
    );
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
    let refused = slow_stated::queue(
        Counted::new(&tally, 2),
        WorkQueue::Delayed,
        &Passive::on_host(),
    );
    let Err(QueueError::Unloading(back)) = refused else {
        panic!("queued after the rundown: {refused:?}");
    };
    assert_eq!(back.id, 2, "the context came back");
    drop(back);
    exec.wait_idle();
    assert_eq!((exec.bug_check(), exec.pool_outstanding()), (None, 0));
}

static WAITS_FOR_ITSELF: Rundown = Rundown::new();
static OTHER_WORK: Rundown = Rundown::new();

/// Waits for the rundown its own run is counted in (a deadlock on Windows),
/// unless told to wait for another one.
#[work_item]
fn unload_from_the_routine(own: bool) {
    if own {
        WAITS_FOR_ITSELF.wait(&Passive::on_host());
    } else {
        OTHER_WORK.wait(&Passive::on_host());
    }
}

#[test]
fn waiting_for_its_own_rundown_inside_the_routine_is_reported_not_a_hang() {
    let exec = Executive::manual();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "waiting_for_its_own_rundown_inside_the_r.sys",
        &[&WAITS_FOR_ITSELF, &OTHER_WORK],
    );
    unload_from_the_routine::queue(
        &WAITS_FOR_ITSELF,
        false,
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(exec.bug_check(), None, "another rundown's wait is fine");
    assert!(OTHER_WORK.is_running_down());

    unload_from_the_routine::queue(
        &WAITS_FOR_ITSELF,
        true,
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    assert!(
        exec.run_next(),
        "the routine returned instead of waiting forever"
    );
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, ntwork_host::bugcheck::HOST_RUST_PANIC);
    assert!(stop.is_host_diagnostic());
}

#[work_item(device)]
fn flush_own_item(_device: &DeviceObject, port: Arc<ReusableIoWorkItem<flush_own_item>>) {
    port.flush(&Passive::on_host());
}

#[test]
fn flushing_a_reusable_item_from_its_own_routine_is_reported_not_a_hang() {
    let exec = Executive::manual();
    let driver = exec.load_driver("selfflush.sys");
    let device = driver.create_device();
    let object = ntwork_suite::object(&device);
    let item =
        Arc::new(ReusableIoWorkItem::<flush_own_item>::new(object, &Passive::on_host()).unwrap());
    item.queue(Arc::clone(&item), WorkQueue::Delayed, &Passive::on_host())
        .unwrap();
    assert!(
        exec.run_next(),
        "the routine returned instead of waiting forever"
    );
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, ntwork_host::bugcheck::HOST_RUST_PANIC);
}
