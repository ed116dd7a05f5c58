//! KMDF work items on the host's framework table: statuses, coalescing,
//! flush ordering, serialization, disposal before the parent's cleanup, the
//! context dropped once, and many enqueues from several threads.

use ntwork::irql::Passive;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ntwork::ffi::wdf as w;
use ntwork::wdf::{
    Enqueued, RunningWdfWorkItem, Serialization, WdfDevice, WdfWorkItem, WdfWorkItemRef,
};
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

fn wdf_device(handle: &ntwork_host::wdf::WdfDeviceHandle) -> &WdfDevice {
    WdfDevice::of(handle)
}

#[test]
fn an_enqueue_of_a_queued_item_coalesces_and_the_callback_drains_everything() {
    let exec = Executive::manual();
    let (driver, handle) = device(&exec, WdfDeviceConfig::default());
    let item = drain::create(
        wdf_device(&handle),
        Samples::new(),
        Serialization::None,
        &Passive::on_host(),
    )
    .unwrap();
    item.context().pending.lock().unwrap().extend([1, 2, 3]);
    assert_eq!(item.enqueue(&Passive::on_host()), Enqueued::Queued);
    item.context().pending.lock().unwrap().push(4);
    assert_eq!(item.enqueue(&Passive::on_host()), Enqueued::Coalesced);
    assert_eq!(exec.run_until_idle(), 1, "one callback for both enqueues");
    assert_eq!(item.context().drained.load(Ordering::SeqCst), 4);
    assert_eq!(
        item.enqueue(&Passive::on_host()),
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
        &Passive::on_host(),
    )
    .unwrap_err();
    assert_eq!(refused.status, w::STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL);
    assert_eq!(
        refused.context.callbacks.load(Ordering::SeqCst),
        0,
        "the context comes back"
    );
    // Unserialized is fine there.
    assert!(
        drain::create(
            wdf_device(&handle),
            Samples::new(),
            Serialization::None,
            &Passive::on_host()
        )
        .is_ok()
    );
    // No parent at all, through the raw table.
    unsafe extern "system" fn never_runs(_: w::WDFWORKITEM) {}
    let mut config = w::WDF_WORKITEM_CONFIG::init(Some(never_runs));
    let mut attributes = w::WDF_OBJECT_ATTRIBUTES::init();
    let mut item: w::WDFWORKITEM = std::ptr::null_mut();
    // SAFETY: valid pointers; the host's table is bound.
    let status = unsafe { w::WdfWorkItemCreate(&mut config, &mut attributes, &mut item) };
    assert_eq!(status, w::STATUS_WDF_PARENT_NOT_SPECIFIED);
    // A config of the wrong size.
    config.Size = 8;
    attributes.ParentObject = handle.as_raw().cast();
    // SAFETY: valid pointers; the host's table is bound.
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
        &Passive::on_host(),
    )
    .unwrap();
    item.enqueue(&Passive::on_host());
    while !item.context().0.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    item.flush(&Passive::on_host());
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

/// KMDF (`FxWorkItem::FlushAndWait`): a flush from the item's own callback
/// returns without waiting; the KMDF verifier breaks into the debugger only
/// when it is on (DbgBreakOnError), which the host reports.
#[test]
fn flush_from_inside_the_callback_returns_at_once_and_is_a_verifier_break_only_with_the_kmdf_verifier()
 {
    for verifier in [false, true] {
        let exec = Executive::manual();
        exec.set_kmdf_verifier(verifier);
        let (_driver, handle) = device(&exec, WdfDeviceConfig::default());
        let item = flush_itself::create(
            wdf_device(&handle),
            AtomicBool::new(false),
            Serialization::None,
            &Passive::on_host(),
        )
        .unwrap();
        item.enqueue(&Passive::on_host());
        assert_eq!(exec.run_until_idle(), 1, "the flush did not hang");
        assert!(item.context().load(Ordering::SeqCst));
        if verifier {
            let stop = exec.expect_bug_check();
            assert_eq!(stop.code, bugcheck::HOST_WDF_VERIFIER_BREAK);
            assert_eq!(stop.parameters[..2], [1, item.as_raw() as usize]);
            assert!(stop.is_host_diagnostic());
            // The executive has stopped: nothing more runs, so the item stays.
            item.leave_to_parent();
        } else {
            assert_eq!(exec.bug_check(), None, "no stop without the KMDF verifier");
        }
    }
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
        &Passive::on_host(),
    )
    .unwrap();
    item.enqueue(&Passive::on_host());
    exec.run_until_idle();
    // The parent owns it; PnP removal deletes the parent.
    item.leave_to_parent();
    handle.delete();
    // The item is disposed (its cleanup runs) before the parent's cleanup;
    // its context goes with its memory, at its last reference, which KMDF
    // drops when it destroys the parent's children (`DestroyChildren`),
    // after the parent's cleanup.
    assert_eq!(
        *ORDER.lock().unwrap(),
        ["device cleanup", "item context dropped"],
        "the context lives until the framework's last reference"
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
                &Passive::on_host(),
            )
            .unwrap()
        })
        .collect();
    for _ in 0..5 {
        for item in &items {
            item.enqueue(&Passive::on_host());
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
    let item = drain::create(
        wdf_device(&handle),
        Samples::new(),
        Serialization::None,
        &Passive::on_host(),
    )
    .unwrap();
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
                    if item.enqueue(&Passive::on_host()) == Enqueued::Coalesced {
                        coalesced.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    exec.wait_idle();
    item.flush(&Passive::on_host());
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
    let item = on_queue::create(
        queue,
        AtomicUsize::new(0),
        Serialization::None,
        &Passive::on_host(),
    )
    .unwrap();
    assert_eq!(
        item.parent().as_raw(),
        raw_queue,
        "the parent, typed as a queue"
    );
    item.enqueue(&Passive::on_host());
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(item.context().load(Ordering::SeqCst), 1);
    item.leave_to_parent();
    handle.delete();
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn raw_enqueue_above_dispatch_and_flush_above_passive_are_stopped() {
    // The safe calls cannot be made there: no proof exists above
    // DISPATCH_LEVEL, and `flush` takes only a `Passive` one (ui cases
    // irql_*). The raw calls are the host's to stop, as KMDF's verifier does.
    let dirql = ntwork::ffi::DISPATCH_LEVEL + 3;

    // WdfWorkItemEnqueue at DIRQL: nothing is queued.
    let exec = Executive::manual();
    let (_driver, handle) = device(&exec, WdfDeviceConfig::default());
    let item = drain::create(
        wdf_device(&handle),
        Samples::new(),
        Serialization::None,
        &Passive::on_host(),
    )
    .unwrap();
    let old = ntwork_host::raise_irql(dirql);
    // SAFETY: a live item of this driver; only the IRQL is wrong.
    unsafe { ntwork::ffi::wdf::WdfWorkItemEnqueue(item.as_raw()) };
    ntwork_host::lower_irql(old);
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_IRQL_ABOVE_DISPATCH);
    assert_eq!(
        stop.parameters[1..3],
        [usize::from(dirql), item.as_raw() as usize]
    );
    assert_eq!(
        exec.run_until_idle(),
        0,
        "the enqueue above DISPATCH_LEVEL queued nothing"
    );
    assert_eq!(item.context().callbacks.load(Ordering::SeqCst), 0);
    item.leave_to_parent();

    // WdfWorkItemFlush at DISPATCH_LEVEL (it waits: PASSIVE_LEVEL only). The
    // safe `flush` cannot be called there (its proof is a compile error,
    // tests/ui/fail/irql_flush_from_dpc.rs); the raw call is the host's to stop.
    let exec = Executive::manual();
    let (_driver, handle) = device(&exec, WdfDeviceConfig::default());
    let item = drain::create(
        wdf_device(&handle),
        Samples::new(),
        Serialization::None,
        &Passive::on_host(),
    )
    .unwrap();
    // SAFETY: a live item of this driver; the call's IRQL is what the test
    // gets wrong, and the host stops it before it waits.
    ntwork_host::at_dispatch_level(|| unsafe { ntwork::ffi::wdf::WdfWorkItemFlush(item.as_raw()) });
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_IRQL_TOO_HIGH);
    assert_eq!(
        stop.parameters[1..],
        [
            usize::from(ntwork::ffi::DISPATCH_LEVEL),
            item.as_raw() as usize,
            usize::from(ntwork::ffi::PASSIVE_LEVEL)
        ]
    );
    item.leave_to_parent();
}

/// What the callback saw right after deleting its own item: contexts
/// dropped, `IO_WORKITEM`s still allocated, and whether its own context was
/// still there to read.
static AFTER_DELETE: Mutex<Option<(usize, usize, usize)>> = Mutex::new(None);

#[work_item(wdf)]
fn delete_itself(context: &(Counted, Arc<Tally>), item: &RunningWdfWorkItem<'_, delete_itself>) {
    context.0.mark_ran();
    let tally = Arc::clone(&context.1);
    // The running handle has no delete; the raw call is what a C callback
    // does, and KMDF allows it. The context stays until the framework's last
    // reference (the enqueue's, released after this callback): the cleanup
    // inside the delete only marks the item deleted.
    // SAFETY: the live item, owned by nobody else (left to its parent).
    unsafe { w::WdfObjectDelete(item.as_raw().cast()) };
    let io_items = TEST_EXECUTIVE.with(|exec| {
        // SAFETY: the manual executive runs this callback on the test's
        // thread, inside `run_until_idle`, while the test holds it.
        unsafe { &*exec.get() }.io_work_items_outstanding()
    });
    *AFTER_DELETE.lock().unwrap() = Some((tally.dropped(), io_items, context.0.id));
}

std::thread_local! {
    /// The executive of the test whose manual run calls the callback.
    static TEST_EXECUTIVE: core::cell::Cell<*const Executive> =
        const { core::cell::Cell::new(core::ptr::null()) };
}

/// KMDF (`FxObject::DeleteObject` -> `DisposeChildrenWorker` ->
/// `FxWorkItem::Dispose`, then `CallCleanup`): `WdfObjectDelete` from the
/// item's own callback runs EvtCleanupCallback inside the delete call (the
/// runtime's cleanup marks the item deleted); the memory, the `IO_WORKITEM`
/// and the context (dropped by EvtDestroyCallback) go at the last reference,
/// which the running callback's enqueue holds until it returns. Before v3 the
/// runtime dropped the context in the cleanup, inside the delete, while the
/// callback still borrowed it.
#[test]
fn an_item_deleted_inside_its_own_callback_is_cleaned_up_inside_the_delete_and_freed_after_it_returns()
 {
    let exec = Executive::manual();
    let (driver, handle) = device(&exec, WdfDeviceConfig::default());
    let tally = Tally::new();
    let item = delete_itself::create(
        wdf_device(&handle),
        (Counted::new(&tally, 0), Arc::clone(&tally)),
        Serialization::None,
        &Passive::on_host(),
    )
    .unwrap();
    assert_eq!(item.enqueue(&Passive::on_host()), Enqueued::Queued);
    // The callback deletes it: the driver gives up its ownership first.
    item.leave_to_parent();
    TEST_EXECUTIVE.with(|e| e.set(&exec));
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        AFTER_DELETE.lock().unwrap().take(),
        Some((0, 1, 0)),
        "after the delete, inside the callback: the context still there, the IO_WORKITEM too"
    );
    assert_eq!((tally.ran(), tally.dropped()), (1, 1), "dropped once");
    assert_eq!(exec.bug_check(), None);
    assert_eq!(
        exec.io_work_items_outstanding(),
        0,
        "its IO_WORKITEM is freed after the callback returned"
    );
    // Deleting the device later finds no child left to dispose.
    handle.delete();
    assert_eq!(tally.dropped(), 1);
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn unload_disposes_items_left_to_their_device_and_leaks_nothing() {
    let exec = Executive::manual();
    let (driver, handle) = device(&exec, WdfDeviceConfig::default());
    let tally = Tally::new();
    for id in 0..3 {
        let item = noted_unordered::create(
            wdf_device(&handle),
            Counted::new(&tally, id),
            Serialization::None,
            &Passive::on_host(),
        )
        .unwrap();
        item.enqueue(&Passive::on_host());
        item.leave_to_parent();
    }
    assert_eq!(exec.run_until_idle(), 3);
    assert_eq!(exec.io_work_items_outstanding(), 3, "kept by their items");
    // No PnP removal: the framework disposes the driver's objects at unload.
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!((tally.ran(), tally.dropped()), (3, 3));
    assert_eq!(
        (exec.io_work_items_outstanding(), exec.pool_outstanding()),
        (0, 0)
    );
    assert!(!exec.is_image_mapped("kmdf.sys"));
    assert_eq!(exec.bug_check(), None);
}

#[work_item(wdf)]
fn noted_unordered(context: &Counted) {
    context.mark_ran();
}

/// wdk-sys's WDFDEVICE as bindgen emits it: a nominal pointee of its own.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
mod bindgen_wdf {
    #[repr(C)]
    pub(crate) struct WDFDEVICE__ {
        _unused: [u8; 0],
    }
    pub(crate) type WDFDEVICE = *mut WDFDEVICE__;
}

/// What a wdk-sys driver's EvtDriverDeviceAdd does with the device it
/// created: the handle goes in with `.cast()`, and nothing else of wdk-sys's
/// is needed (the item is created through ntwork's own table types, with
/// ntwork's callback).
fn on_device_add(device: bindgen_wdf::WDFDEVICE) -> WdfWorkItem<'static, drain> {
    // SAFETY: a live WDFDEVICE of this driver, not deleted while the item lives
    // (the test drops the item first).
    let device = unsafe { WdfDevice::from_raw(device.cast()) };
    drain::create(
        device,
        Samples::new(),
        Serialization::None,
        &Passive::on_host(),
    )
    .unwrap()
}

#[test]
fn a_wdk_sys_device_handle_goes_in_with_a_pointer_cast() {
    let exec = Executive::manual();
    let (driver, handle) = device(&exec, WdfDeviceConfig::default());
    let theirs: bindgen_wdf::WDFDEVICE = handle.as_raw().cast();
    let item = on_device_add(theirs);
    item.context().pending.lock().unwrap().push(9);
    assert_eq!(item.enqueue(&Passive::on_host()), Enqueued::Queued);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(item.context().drained.load(Ordering::SeqCst), 1);
    drop(item);
    handle.delete();
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}

/// The C pattern: created in EvtDriverDeviceAdd and kept in the device's
/// context, enqueued later from the DPC with the device the framework passes,
/// disposed with the device.
#[test]
fn an_item_kept_by_its_device_is_reached_again_through_the_device_and_disposed_with_it() {
    let exec = Executive::manual();
    let (driver, handle) = device(&exec, WdfDeviceConfig::default());
    let other = driver.create_wdf_device(WdfDeviceConfig::default());
    let tally = Tally::new();
    noted_unordered::create(
        wdf_device(&handle),
        Counted::new(&tally, 1),
        Serialization::None,
        &Passive::on_host(),
    )
    .unwrap()
    .keep_in_parent(&Passive::on_host())
    .unwrap();
    assert!(
        WdfWorkItemRef::<noted_unordered>::kept(wdf_device(&other)).is_none(),
        "another device keeps nothing"
    );
    // One item per routine per device: a second one comes back, unchanged.
    let second = noted_unordered::create(
        wdf_device(&handle),
        Counted::new(&tally, 2),
        Serialization::None,
        &Passive::on_host(),
    )
    .unwrap();
    let refused = second.keep_in_parent(&Passive::on_host()).unwrap_err();
    assert_eq!(refused.status, w::STATUS_OBJECT_NAME_EXISTS);
    assert_eq!(refused.item.context().id, 2);
    drop(refused);
    assert_eq!(
        tally.dropped(),
        1,
        "the refused item was dropped by its owner"
    );
    for _ in 0..2 {
        let item = WdfWorkItemRef::<noted_unordered>::kept(wdf_device(&handle)).expect("kept");
        assert_eq!(item.context().id, 1);
        assert_eq!(item.enqueue(&Passive::on_host()), Enqueued::Queued);
        assert_eq!(item.enqueue(&Passive::on_host()), Enqueued::Coalesced);
        assert_eq!(exec.run_until_idle(), 1);
        item.flush(&Passive::on_host());
    }
    assert_eq!(tally.ran(), 2);
    assert_eq!(tally.dropped(), 1, "the framework keeps the kept item");
    handle.delete();
    assert_eq!(
        tally.dropped(),
        2,
        "disposed with its device, the context dropped once"
    );
    other.delete();
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}
