//! KMDF work items on the host's framework table: statuses, coalescing,
//! flush ordering, serialization, disposal before the parent's cleanup, the
//! context dropped once, and many enqueues from several threads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ntwork::ffi::wdf as w;
use ntwork::wdf::{Enqueued, RunningWdfWorkItem, Serialization, WdfDevice, WdfWorkItem};
use ntwork::work_item;
use ntwork_host::wdf::WdfDeviceConfig;
use ntwork_host::{Executive, bugcheck};
use ntwork_suite::{Counted, Tally};

/// A device context's queue of pending samples, drained by the callback.
struct Samples {
    pending: Mutex<Vec<u32>>,
    drained: AtomicUsize,
    callbacks: AtomicUsize,
}

impl Samples {
    fn new() -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
            drained: AtomicUsize::new(0),
            callbacks: AtomicUsize::new(0),
        }
    }
}

#[work_item(wdf)]
fn drain(samples: &Samples) {
    samples.callbacks.fetch_add(1, Ordering::SeqCst);
    let taken = std::mem::take(&mut *samples.pending.lock().unwrap());
    samples.drained.fetch_add(taken.len(), Ordering::SeqCst);
}

fn device(
    exec: &Executive,
    config: WdfDeviceConfig,
) -> (ntwork_host::Driver, ntwork_host::wdf::WdfDeviceHandle) {
    let driver = exec.load_driver("kmdf.sys");
    let device = driver.create_wdf_device(config);
    (driver, device)
}

fn wdf_device(handle: &ntwork_host::wdf::WdfDeviceHandle) -> &'static WdfDevice {
    // SAFETY: the test's WDFDEVICE lives until the test deletes it.
    unsafe { WdfDevice::from_raw(handle.as_raw()) }
}

#[test]
fn an_enqueue_of_a_queued_item_coalesces_and_the_callback_drains_everything() {
    let exec = Executive::manual();
    let (driver, handle) = device(&exec, WdfDeviceConfig::default());
    let item = drain::create(wdf_device(&handle), Samples::new(), Serialization::None).unwrap();
    item.context().pending.lock().unwrap().extend([1, 2, 3]);
    assert_eq!(item.enqueue(), Enqueued::Queued);
    item.context().pending.lock().unwrap().push(4);
    assert_eq!(item.enqueue(), Enqueued::Coalesced);
    assert_eq!(exec.run_until_idle(), 1, "one callback for both enqueues");
    assert_eq!(item.context().drained.load(Ordering::SeqCst), 4);
    assert_eq!(
        item.enqueue(),
        Enqueued::Queued,
        "no longer queued once the callback ran"
    );
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(item.parent().as_raw(), handle.as_raw());
    drop(item);
    handle.delete();
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn a_missing_parent_and_an_incompatible_level_are_the_frameworks_statuses() {
    let exec = Executive::manual();
    let (_driver, handle) = device(
        &exec,
        WdfDeviceConfig {
            passive: false,
            synchronized: true,
            cleanup: None,
        },
    );
    // Serialized under a dispatch-level, synchronized parent.
    let refused = drain::create(
        wdf_device(&handle),
        Samples::new(),
        Serialization::Automatic,
    )
    .unwrap_err();
    assert_eq!(refused.status, w::STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL);
    assert_eq!(
        refused.context.callbacks.load(Ordering::SeqCst),
        0,
        "the context comes back"
    );
    // Unserialized is fine there.
    assert!(drain::create(wdf_device(&handle), Samples::new(), Serialization::None).is_ok());
    // No parent at all, through the raw table.
    let mut config =
        w::WDF_WORKITEM_CONFIG::init(Some(<drain as ntwork::wdf::WdfRoutine>::CALLBACK));
    let mut attributes = w::WDF_OBJECT_ATTRIBUTES::init();
    let mut item: w::WDFWORKITEM = std::ptr::null_mut();
    // SAFETY: valid pointers; the host's table is bound.
    let status = unsafe { w::WdfWorkItemCreate(&mut config, &mut attributes, &mut item) };
    assert_eq!(status, w::STATUS_WDF_PARENT_NOT_SPECIFIED);
    // A config of the wrong size.
    config.Size = 8;
    attributes.ParentObject = handle.as_raw().cast();
    // SAFETY: as above.
    let status = unsafe { w::WdfWorkItemCreate(&mut config, &mut attributes, &mut item) };
    assert_eq!(status, w::STATUS_INFO_LENGTH_MISMATCH);
    assert_eq!(exec.bug_check(), None);
}

#[work_item(wdf)]
fn slow(started: &(AtomicBool, AtomicBool)) {
    started.0.store(true, Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(30));
    started.1.store(true, Ordering::SeqCst);
}

#[test]
fn flush_returns_only_after_the_callback_returned() {
    let exec = Executive::new();
    let (_driver, handle) = device(&exec, WdfDeviceConfig::default());
    let item = slow::create(
        wdf_device(&handle),
        (AtomicBool::new(false), AtomicBool::new(false)),
        Serialization::None,
    )
    .unwrap();
    item.enqueue();
    while !item.context().0.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    item.flush();
    assert!(
        item.context().1.load(Ordering::SeqCst),
        "flush returned while the callback ran"
    );
    assert_eq!(exec.bug_check(), None);
}

#[work_item(wdf)]
fn flush_itself(flag: &AtomicBool, item: &RunningWdfWorkItem<'_, flush_itself>) {
    flag.store(true, Ordering::SeqCst);
    // The running handle has no `flush` (a compile error, see ui
    // wdf_flush_in_callback); the raw call is the Verifier break.
    // SAFETY: the live item; the misuse under test.
    unsafe { w::WdfWorkItemFlush(item.as_raw()) };
}

#[test]
fn flush_from_inside_the_callback_is_the_verifier_break() {
    let exec = Executive::manual();
    let (_driver, handle) = device(&exec, WdfDeviceConfig::default());
    let item = flush_itself::create(
        wdf_device(&handle),
        AtomicBool::new(false),
        Serialization::None,
    )
    .unwrap();
    item.enqueue();
    exec.run_until_idle();
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_WDF_VERIFIER_BREAK);
    assert_eq!(stop.parameters[..2], [1, item.as_raw() as usize]);
    assert!(stop.is_host_diagnostic());
    // The executive has stopped: nothing more runs, so the item stays.
    item.leave_to_parent();
}

static ORDER: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

unsafe extern "system" fn device_cleanup(_: w::WDFOBJECT) {
    ORDER.lock().unwrap().push("device cleanup");
}

struct Noted(Counted);

impl Drop for Noted {
    fn drop(&mut self) {
        ORDER.lock().unwrap().push("item context dropped");
    }
}

#[work_item(wdf)]
fn noted(context: &Noted) {
    context.0.mark_ran();
}

#[test]
fn deleting_the_parent_disposes_the_item_first_and_drops_its_context_once() {
    let exec = Executive::manual();
    let (driver, handle) = device(
        &exec,
        WdfDeviceConfig {
            cleanup: Some(device_cleanup),
            ..WdfDeviceConfig::default()
        },
    );
    let tally = Tally::new();
    let item = noted::create(
        wdf_device(&handle),
        Noted(Counted::new(&tally, 0)),
        Serialization::None,
    )
    .unwrap();
    item.enqueue();
    exec.run_until_idle();
    // The parent owns it; PnP removal deletes the parent.
    item.leave_to_parent();
    handle.delete();
    assert_eq!(
        *ORDER.lock().unwrap(),
        ["item context dropped", "device cleanup"],
        "children are disposed before the parent's cleanup"
    );
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None, "no IO_WORKITEM or pool left behind");
}

#[work_item(wdf)]
fn exclusive(state: &(AtomicUsize, AtomicUsize)) {
    let inside = state.0.fetch_add(1, Ordering::SeqCst) + 1;
    state.1.fetch_max(inside, Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(2));
    state.0.fetch_sub(1, Ordering::SeqCst);
}

#[test]
fn automatic_serialization_runs_callbacks_of_one_device_one_at_a_time() {
    let exec = Executive::new();
    let (_driver, handle) = device(
        &exec,
        WdfDeviceConfig {
            passive: true,
            synchronized: true,
            cleanup: None,
        },
    );
    let shared = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let items: Vec<_> = (0..4)
        .map(|_| {
            WdfWorkItem::<exclusive_shared>::create(
                wdf_device(&handle),
                Arc::clone(&shared),
                Serialization::Automatic,
            )
            .unwrap()
        })
        .collect();
    for _ in 0..5 {
        for item in &items {
            item.enqueue();
        }
        exec.wait_idle();
    }
    assert_eq!(
        shared.1.load(Ordering::SeqCst),
        1,
        "two serialized callbacks overlapped"
    );
    assert_eq!(exec.bug_check(), None);
}

#[work_item(wdf)]
fn exclusive_shared(state: &Arc<(AtomicUsize, AtomicUsize)>) {
    exclusive(state);
}

#[test]
fn ten_thousand_enqueues_from_four_threads_drain_every_entry() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 2_500;
    let exec = Executive::new();
    let (_driver, handle) = device(&exec, WdfDeviceConfig::default());
    let item = drain::create(wdf_device(&handle), Samples::new(), Serialization::None).unwrap();
    let coalesced = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (exec, item, coalesced) = (&exec, &item, &coalesced);
            s.spawn(move || {
                let _bound = exec.enter();
                for i in 0..PER_THREAD {
                    item.context()
                        .pending
                        .lock()
                        .unwrap()
                        .push((t * PER_THREAD + i) as u32);
                    if item.enqueue() == Enqueued::Coalesced {
                        coalesced.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    exec.wait_idle();
    item.flush();
    let samples = item.context();
    assert_eq!(
        samples.drained.load(Ordering::SeqCst),
        THREADS * PER_THREAD,
        "every entry drained"
    );
    let callbacks = samples.callbacks.load(Ordering::SeqCst);
    assert_eq!(
        callbacks + coalesced.load(Ordering::SeqCst),
        THREADS * PER_THREAD,
        "each enqueue either queued a callback or coalesced into a pending one"
    );
    assert_eq!(exec.bug_check(), None);
}

#[work_item(wdf, parent = queue)]
fn on_queue(runs: &AtomicUsize) {
    runs.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_queue_parent_leads_to_its_device() {
    let exec = Executive::manual();
    let (driver, handle) = device(&exec, WdfDeviceConfig::default());
    let raw_queue = handle.create_queue();
    // SAFETY: the test's WDFQUEUE, alive until its device is deleted.
    let queue = unsafe { ntwork::wdf::WdfQueue::from_raw(raw_queue) };
    let item = on_queue::create(queue, AtomicUsize::new(0), Serialization::None).unwrap();
    assert_eq!(
        item.parent().as_raw(),
        raw_queue,
        "the parent, typed as a queue"
    );
    item.enqueue();
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(item.context().load(Ordering::SeqCst), 1);
    item.leave_to_parent();
    handle.delete();
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}
