//! The safe Io path on the host executive: device references, requeue, free,
//! embedded items, try-queue and allocation failures.

use ntwork::irql::Passive;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ntwork::{DeviceObject, IoWorkItem, RunningIoWorkItem, WorkQueue, work_item};
use ntwork_host::{Executive, FailurePlan, FaultSite};
use ntwork_suite::{Counted, Tally};

#[work_item(device)]
fn handle(device: &DeviceObject, context: (Counted, usize)) {
    assert_eq!(
        device.as_raw() as usize,
        context.1,
        "the routine gets its own device"
    );
    context.0.mark_ran();
}

#[test]
fn the_device_is_referenced_while_work_is_pending_and_released_after() {
    let exec = Executive::manual();
    let driver = exec.load_driver("refs.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let tally = Tally::new();
    let object = ntwork_suite::object(&device);
    for id in 0..3 {
        handle::queue(
            object,
            (Counted::new(&tally, id), device.as_raw() as usize),
            WorkQueue::Delayed,
            &Passive::on_host(),
        )
        .unwrap();
    }
    assert_eq!(device.reference_count(), base + 3);
    assert!(exec.run_next());
    assert_eq!(device.reference_count(), base + 2);
    exec.run_until_idle();
    assert_eq!(device.reference_count(), base);
    assert_eq!((tally.ran(), tally.dropped()), (3, 3));
    assert_eq!(
        exec.io_work_items_outstanding(),
        0,
        "freed after the routine"
    );
    assert_eq!(exec.pool_outstanding(), 0);
    driver.unload().unwrap();
}

#[work_item(device)]
fn requeue(_device: &DeviceObject, state: (u32, Arc<AtomicUsize>), item: IoWorkItem<requeue>) {
    let (left, runs) = state;
    runs.fetch_add(1, Ordering::SeqCst);
    if left > 0 {
        item.queue((left - 1, runs), WorkQueue::Delayed, &Passive::on_host());
    }
}

#[test]
fn a_routine_that_requeues_itself_n_times_runs_n_plus_one_times() {
    let exec = Executive::manual();
    let driver = exec.load_driver("requeue.sys");
    let device = driver.create_device();
    let item = requeue::new(ntwork_suite::object(&device), &Passive::on_host()).unwrap();
    assert_eq!(exec.io_work_items_outstanding(), 1);
    let runs = Arc::new(AtomicUsize::new(0));
    item.queue(
        (9, Arc::clone(&runs)),
        WorkQueue::Delayed,
        &Passive::on_host(),
    );
    assert_eq!(exec.run_until_idle(), 10);
    assert_eq!(runs.load(Ordering::SeqCst), 10);
    assert_eq!(
        exec.io_work_items_outstanding(),
        0,
        "dropped in the last run"
    );
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

/// The item lent for the call: requeued with no reference of its own.
#[work_item(device)]
fn poll(device: &DeviceObject, state: (u32, Arc<AtomicUsize>), item: RunningIoWorkItem<'_, poll>) {
    let (left, runs) = state;
    runs.fetch_add(1, Ordering::SeqCst);
    assert_eq!(item.object().as_raw(), device.as_raw());
    if left > 0 {
        item.queue((left - 1, runs), WorkQueue::Delayed);
    }
}

#[test]
fn a_routine_that_borrows_its_item_requeues_it_without_a_reference_of_its_own() {
    let exec = Executive::manual();
    let driver = exec.load_driver("poll.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let object = ntwork_suite::object(&device);
    let runs = Arc::new(AtomicUsize::new(0));
    poll::queue(
        object,
        (3, Arc::clone(&runs)),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    for run in 1..=4 {
        // Only the queue's reference: the lent item takes none, even requeued.
        assert_eq!(device.reference_count(), base + 1);
        assert!(exec.run_next());
        assert_eq!(runs.load(Ordering::SeqCst), run);
    }
    assert!(!exec.run_next());
    assert_eq!(device.reference_count(), base);
    assert_eq!(exec.io_work_items_outstanding(), 0, "freed in the last run");
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

/// Requeues itself with `IoTryQueueWorkItem` and falls back to a plain
/// queue when no worker is free; records which way each run went.
#[work_item(device)]
fn retry_now(
    _device: &DeviceObject,
    log: Arc<std::sync::Mutex<Vec<&'static str>>>,
    item: RunningIoWorkItem<'_, retry_now>,
) {
    let runs = log.lock().unwrap().len();
    if runs >= 2 {
        log.lock().unwrap().push("done");
        return;
    }
    match item.try_queue(Arc::clone(&log), WorkQueue::Delayed) {
        Ok(()) => log.lock().unwrap().push("try_queue"),
        Err((item, log)) => {
            log.lock().unwrap().push("queue");
            item.queue(log, WorkQueue::Delayed);
        }
    }
}

#[test]
fn a_lent_item_that_cannot_be_try_queued_comes_back_and_can_be_queued() {
    let exec = Executive::manual();
    let driver = exec.load_driver("retry.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    retry_now::queue(
        ntwork_suite::object(&device),
        Arc::clone(&log),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    // First run: no worker free for the try; the item and the log come back.
    exec.fail_allocations(FaultSite::TryQueue, FailurePlan::Next(1));
    assert!(exec.run_next());
    assert_eq!(*log.lock().unwrap(), ["queue"]);
    assert_eq!(
        device.reference_count(),
        base + 1,
        "queued once, no item reference"
    );
    // Second run: the try succeeds (the manual executive counts as free).
    assert!(exec.run_next());
    assert_eq!(*log.lock().unwrap(), ["queue", "try_queue"]);
    assert!(exec.run_next());
    assert!(!exec.run_next());
    assert_eq!(*log.lock().unwrap(), ["queue", "try_queue", "done"]);
    assert_eq!(device.reference_count(), base);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(Arc::strong_count(&log), 1);
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

static KEPT: std::sync::Mutex<Option<IoWorkItem<park>>> = std::sync::Mutex::new(None);

/// The lent item kept beyond the call: then it takes its reference.
#[work_item(device)]
fn park(_device: &DeviceObject, item: RunningIoWorkItem<'_, park>) {
    *KEPT.lock().unwrap() = Some(item.keep());
}

#[test]
fn a_lent_item_kept_beyond_the_call_holds_its_own_reference() {
    let exec = Executive::manual();
    let driver = exec.load_driver("park.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    park::queue(
        ntwork_suite::object(&device),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    assert!(exec.run_next());
    assert_eq!(
        device.reference_count(),
        base + 1,
        "the kept item's reference"
    );
    assert_eq!(exec.io_work_items_outstanding(), 1);
    let item = KEPT.lock().unwrap().take().unwrap();
    item.queue((), WorkQueue::Delayed, &Passive::on_host());
    assert!(exec.run_next());
    drop(KEPT.lock().unwrap().take());
    assert_eq!(device.reference_count(), base);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

#[work_item(device)]
fn drop_item(_device: &DeviceObject, tally: Counted, item: IoWorkItem<drop_item>) {
    tally.mark_ran();
    drop(item);
}

#[test]
fn a_routine_that_drops_its_item_frees_it_exactly_once() {
    let exec = Executive::manual();
    let driver = exec.load_driver("free.sys");
    let device = driver.create_device();
    let tally = Tally::new();
    drop_item::queue(
        ntwork_suite::object(&device),
        Counted::new(&tally, 0),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    assert_eq!(exec.io_work_items_outstanding(), 1);
    exec.run_until_idle();
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.bug_check(), None, "no double free (0xE4) and no leak");
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
    driver.unload().unwrap();
}

#[test]
fn an_allocation_failure_returns_err_and_leaks_nothing() {
    let exec = Executive::manual();
    let driver = exec.load_driver("lowres.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let tally = Tally::new();
    let object = ntwork_suite::object(&device);

    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Next(1));
    let err = handle::queue(
        object,
        (Counted::new(&tally, 1), 0),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap_err();
    assert_eq!(err.into_inner().0.id, 1, "the context comes back");
    assert_eq!(exec.pool_outstanding(), 0, "the context slot was freed");

    exec.fail_allocations(FaultSite::Pool, FailurePlan::Next(1));
    assert!(IoWorkItem::<handle>::new(object, &Passive::on_host()).is_err());
    assert!(IoWorkItem::<handle>::new_embedded(object, &Passive::on_host()).is_ok_and(drop_it));

    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(device.reference_count(), base, "nothing was queued");
    assert_eq!(tally.dropped(), 1);
    driver.unload().unwrap();
}

#[work_item(device)]
fn ping(_device: &DeviceObject, pings: Arc<AtomicUsize>) {
    pings.fetch_add(1, Ordering::SeqCst);
}

static WAKES: AtomicUsize = AtomicUsize::new(0);

#[work_item(device)]
fn wake(_device: &DeviceObject) {
    WAKES.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_one_shot_routine_without_its_item_puts_only_the_context_in_pool() {
    let exec = Executive::manual();
    let driver = exec.load_driver("ping.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let object = ntwork_suite::object(&device);
    let pings = Arc::new(AtomicUsize::new(0));

    // As C: the IO_WORKITEM and one pool block for the context.
    ping::queue(
        object,
        Arc::clone(&pings),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    assert_eq!(exec.io_work_items_outstanding(), 1);
    assert_eq!(exec.pool_outstanding(), 1);
    // A routine without a context needs no pool at all.
    wake::queue(object, WorkQueue::Delayed, &Passive::on_host()).unwrap();
    assert_eq!(exec.io_work_items_outstanding(), 2);
    assert_eq!(exec.pool_outstanding(), 1);
    assert_eq!(device.reference_count(), base + 2);

    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(pings.load(Ordering::SeqCst), 1);
    assert_eq!(WAKES.load(Ordering::SeqCst), 1);
    assert_eq!(Arc::strong_count(&pings), 1, "the context was dropped");
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(device.reference_count(), base);

    // The item comes first: when the context's block cannot be had, the item
    // is freed again and the context comes back.
    exec.fail_allocations(FaultSite::Pool, FailurePlan::Next(1));
    let err = ping::queue(
        object,
        Arc::clone(&pings),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap_err();
    assert_eq!(
        Arc::strong_count(&err.into_inner()),
        2,
        "the context comes back"
    );
    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Next(1));
    assert!(
        ping::queue(
            object,
            Arc::clone(&pings),
            WorkQueue::Delayed,
            &Passive::on_host()
        )
        .is_err()
    );
    assert_eq!(Arc::strong_count(&pings), 1);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(device.reference_count(), base, "nothing was queued");
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

fn drop_it<T>(value: T) -> bool {
    drop(value);
    true
}

#[test]
fn an_embedded_item_is_one_block_and_is_uninitialized_before_it_is_freed() {
    let exec = Executive::manual();
    let driver = exec.load_driver("embedded.sys");
    let device = driver.create_device();
    let runs = Arc::new(AtomicUsize::new(0));
    let item =
        IoWorkItem::<requeue>::new_embedded(ntwork_suite::object(&device), &Passive::on_host())
            .unwrap();
    assert!(item.is_embedded());
    assert_eq!(
        exec.pool_outstanding(),
        1,
        "item and context share one block"
    );
    assert_eq!(
        exec.io_work_items_outstanding(),
        1,
        "initialized with IoInitializeWorkItem"
    );
    item.queue(
        (2, Arc::clone(&runs)),
        WorkQueue::Delayed,
        &Passive::on_host(),
    );
    assert_eq!(exec.run_until_idle(), 3);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(exec.io_work_items_outstanding(), 0, "uninitialized");
    assert_eq!(exec.pool_outstanding(), 0, "then freed");
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

#[test]
fn try_queue_hands_back_the_item_and_context_when_no_worker_is_free() {
    let exec = Executive::manual();
    let driver = exec.load_driver("try.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let tally = Tally::new();
    let item = drop_item::new(ntwork_suite::object(&device), &Passive::on_host()).unwrap();
    assert_eq!(
        device.reference_count(),
        base + 1,
        "the item's own reference"
    );

    exec.fail_allocations(FaultSite::TryQueue, FailurePlan::Next(1));
    let back = item
        .try_queue(
            Counted::new(&tally, 4),
            WorkQueue::Delayed,
            &Passive::on_host(),
        )
        .unwrap_err();
    assert_eq!(back.context.id, 4);
    assert_eq!(
        device.reference_count(),
        base + 1,
        "the failed try-queue kept no reference of its own"
    );
    assert_eq!(exec.pending(), 0);

    back.item
        .try_queue(back.context, WorkQueue::Delayed, &Passive::on_host())
        .unwrap();
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(device.reference_count(), base);
    driver.unload().unwrap();
}

#[test]
fn a_dropped_unqueued_item_is_freed() {
    let exec = Executive::manual();
    let driver = exec.load_driver("drop.sys");
    let device = driver.create_device();
    let item = handle::new(ntwork_suite::object(&device), &Passive::on_host()).unwrap();
    assert_eq!(item.object().as_raw(), device.as_raw());
    drop(item);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
    driver.unload().unwrap();
}

/// Windows: DriverUnload runs with Io work pending; the queue's reference
/// keeps the device, so the driver object, so the image, until the routine
/// has returned. The safe one-shot path needs nothing more.
#[test]
fn io_work_pending_at_unload_runs_after_driver_unload_and_then_the_image_goes() {
    let exec = Executive::manual();
    let driver = exec.load_driver("early.sys");
    let device = driver.create_device();
    let tally = Tally::new();
    handle::queue(
        ntwork_suite::object(&device),
        (Counted::new(&tally, 0), device.as_raw() as usize),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    driver.unload().unwrap();
    assert!(
        exec.is_image_mapped("early.sys"),
        "the queued item keeps it"
    );
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
    assert!(!exec.is_image_mapped("early.sys"));
    assert_eq!(exec.bug_check(), None, "no leak: the item freed itself");
}

#[test]
fn the_generated_classic_routine_runs_under_raw_io_queue_work_item() {
    use ntwork::{ffi, raw};
    let exec = Executive::manual();
    let driver = exec.load_driver("raw.sys");
    let device = driver.create_device();
    let tally = Tally::new();
    let context = (Counted::new(&tally, 0), device.as_raw() as usize);
    // SAFETY: a live device of a loaded driver; the item is freed after its
    // routine ran; the context parameter is taken back by `handle::ROUTINE`.
    unsafe {
        let item = ffi::IoAllocateWorkItem(device.as_raw());
        assert!(!item.is_null());
        let parameter = raw::into_parameter(context).unwrap();
        ffi::IoQueueWorkItem(
            item,
            Some(handle::ROUTINE),
            ffi::DelayedWorkQueue,
            parameter,
        );
        assert_eq!(exec.run_until_idle(), 1);
        ffi::IoFreeWorkItem(item);
    }
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

#[work_item(device)]
fn note_retry(_device: &DeviceObject, count: Arc<AtomicUsize>) {
    count.fetch_add(1, Ordering::SeqCst);
}

/// A device extension as a port writes it: the items' routine comes from the
/// field types, the device is held counted, and `new` takes it as `&ARef`.
struct Extension {
    retry: IoWorkItem<note_retry>,
    again: ntwork::ReusableIoWorkItem<note_retry>,
}

#[test]
fn items_are_made_from_a_counted_device_with_the_routine_inferred_from_the_field() {
    let exec = Executive::manual();
    let driver = exec.load_driver("ext.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    let counted = ntwork::ARef::from(ntwork_suite::object(&device));
    let extension = Extension {
        retry: IoWorkItem::new(&counted, &Passive::on_host()).unwrap(),
        again: ntwork::ReusableIoWorkItem::new(&counted, &Passive::on_host()).unwrap(),
    };
    assert_eq!(
        device.reference_count(),
        base + 3,
        "the ARef and one per item"
    );
    let count = Arc::new(AtomicUsize::new(0));
    extension
        .retry
        .queue(Arc::clone(&count), WorkQueue::Delayed, &Passive::on_host());
    extension
        .again
        .queue(Arc::clone(&count), WorkQueue::Delayed, &Passive::on_host())
        .unwrap();
    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(count.load(Ordering::SeqCst), 2);
    drop(extension.again);
    drop(counted);
    assert_eq!(device.reference_count(), base);
    assert_eq!(exec.pool_outstanding(), 0);
    driver.unload().unwrap();
}
