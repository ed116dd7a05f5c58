//! Safe programs that reached UB or a bug check through ntwork before v3, each
//! now refused or sound. One test per finding of the "Soundness v3" issue,
//! named after what holds now; each failed before its fix (the comment says
//! how).

use ntwork::irql::Passive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use ntwork::{
    DeviceObject, DriverObject, ExWorkItem, IoWorkItem, OpenError, QueueError, Rundown,
    RunningIoWorkItem, SetUnloadError, WorkQueue, work_item,
};
use ntwork_host::{Executive, bugcheck};
use ntwork_suite::{Counted, Tally, driver_object, load_ex_driver, object};

// ---- Finding 1: nothing is read after it is handed over ------------------

#[work_item(device)]
fn frees_its_item_at_once(
    _device: &DeviceObject,
    _n: u32,
    item: RunningIoWorkItem<'_, frees_its_item_at_once>,
) {
    let _ = item; // freed by the trampoline as soon as the routine returns
}

/// On an eager executive the routine has run, and its lent item's block is
/// freed, before `try_queue` returns. Before the fix `try_queue` read the
/// object pointer through that block afterwards: a heap use after free
/// (AddressSanitizer, Miri), and in a plain build a garbage pointer passed to
/// `ObfDereferenceObject` (a host bug check).
#[test]
fn io_try_queue_reads_nothing_after_the_hand_over() {
    let exec = Executive::eager();
    let driver = exec.load_driver("tryqueue.sys");
    let device = driver.create_device();
    let base = device.reference_count();
    for round in 0..100 {
        let item: IoWorkItem<frees_its_item_at_once> =
            IoWorkItem::new(object(&device), &Passive::on_host()).expect("IoAllocateWorkItem");
        if let Err(refused) = item.try_queue(round, WorkQueue::Delayed, &Passive::on_host()) {
            panic!("an idle worker was there: {refused:?}");
        }
    }
    assert_eq!(exec.bug_check(), None);
    assert_eq!(
        device.reference_count(),
        base,
        "every reference given back once"
    );
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
}

// ---- Finding 6: unload safety is a type ----------------------------------

/// Tells whether the driver's own unload code had run when an Ex routine
/// returned.
struct Watch {
    unload_ran: mpsc::Receiver<()>,
    gate: mpsc::Receiver<()>,
    seen_unload_before_return: Arc<AtomicBool>,
    returned: Arc<AtomicBool>,
}

// SAFETY-free: the receivers are used by the one routine that owns them.
#[work_item]
fn watched(watch: Watch) {
    watch.gate.recv().expect("the test opens the gate");
    let early = watch.unload_ran.try_recv().is_ok();
    watch
        .seen_unload_before_return
        .store(early, Ordering::SeqCst);
    watch.returned.store(true, Ordering::SeqCst);
}

static NEVER_WAITED: Rundown = Rundown::new();
static UNLOAD_RAN: std::sync::Mutex<Option<mpsc::Sender<()>>> = std::sync::Mutex::new(None);

/// A DriverUnload that does not wait for anything: before v3 it returned while
/// the Ex routine still ran, and the image went under it (0xCE). Now the wait
/// is ntwork's, before this code runs.
fn unload_that_never_waits(_driver: &DriverObject, _irql: &mut Passive<'_>) {
    if let Some(sender) = UNLOAD_RAN.lock().unwrap().take() {
        sender.send(()).unwrap();
    }
}

#[test]
fn a_driver_unload_that_never_waits_still_has_its_ex_work_waited_for() {
    let exec = Executive::new();
    let host_driver = exec.load_driver("neverwaits.sys");
    let driver = driver_object(&host_driver);
    driver
        .set_unload(unload_that_never_waits, &Passive::on_host())
        .unwrap();
    NEVER_WAITED.open(driver, &Passive::on_host()).unwrap();

    let (unload_tx, unload_rx) = mpsc::channel();
    *UNLOAD_RAN.lock().unwrap() = Some(unload_tx);
    let (gate_tx, gate_rx) = mpsc::channel();
    let seen = Arc::new(AtomicBool::new(true));
    let returned = Arc::new(AtomicBool::new(false));
    watched::queue(
        &NEVER_WAITED,
        Watch {
            unload_ran: unload_rx,
            gate: gate_rx,
            seen_unload_before_return: Arc::clone(&seen),
            returned: Arc::clone(&returned),
        },
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    std::thread::scope(|s| {
        let unloader = s.spawn(|| {
            let _bound = exec.enter();
            host_driver.unload()
        });
        // Give the unload every chance to run the driver's code early.
        std::thread::sleep(Duration::from_millis(50));
        gate_tx.send(()).unwrap();
        unloader.join().unwrap().expect("unload");
    });
    assert!(
        returned.load(Ordering::SeqCst),
        "the unload returned before the routine"
    );
    assert!(
        !seen.load(Ordering::SeqCst),
        "the driver's unload code ran while its Ex routine was still running"
    );
    exec.wait_idle();
    assert_eq!(
        exec.bug_check(),
        None,
        "no routine ran in an unloaded image"
    );
}

static NAMED: Rundown = Rundown::new();
static ELSEWHERE: Rundown = Rundown::new();

#[work_item(rundown = NAMED)]
fn counted_in_named(context: Counted) {
    context.mark_ran();
}

/// A routine named with `rundown = NAMED`, queued through `ExWorkItem::queue`
/// under another rundown that no DriverUnload waits for: before v3 it was
/// counted there and ran after the unload (0xCE). A rundown counts nothing
/// until it is opened for the driver, and an opened one is waited for.
#[test]
fn work_under_a_rundown_nobody_waits_for_is_refused() {
    let exec = Executive::manual();
    let _driver = load_ex_driver(&exec, "named.sys", &[&NAMED]);
    let tally = Tally::new();
    let item =
        ExWorkItem::<counted_in_named>::new(Counted::new(&tally, 1), &Passive::on_host()).unwrap();
    let Err(QueueError::NotOpen(item)) =
        item.queue(&ELSEWHERE, WorkQueue::Delayed, &Passive::on_host())
    else {
        panic!("queued under a rundown that was never opened");
    };
    assert_eq!(item.context().id, 1, "the item came back");
    // Through the rundown the routine names, it runs.
    counted_in_named::queue(
        Counted::new(&tally, 2),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    assert_eq!(exec.run_until_idle(), 1);
    drop(item);
    assert_eq!((tally.ran(), tally.dropped()), (1, 2));
}

static REOPENED_LATE: Rundown = Rundown::new();
static LATE_REOPEN: AtomicBool = AtomicBool::new(true);
static LATE_QUEUE_REFUSED: AtomicBool = AtomicBool::new(false);

#[work_item]
fn late_ex(_: u32) {}

/// A driver-bound routine runs after DriverUnload (its reference keeps the
/// image) and tries to reopen the Ex rundown the unload waited for. Before v3
/// `reopen` succeeded and the Ex work it then queued ran in an unloaded image.
#[work_item(driver)]
fn reopens_after_unload(_driver: &DriverObject, _: u32) {
    LATE_REOPEN.store(REOPENED_LATE.reopen(), Ordering::SeqCst);
    let refused = late_ex::queue(&REOPENED_LATE, 7, WorkQueue::Delayed, &Passive::on_host());
    LATE_QUEUE_REFUSED.store(
        matches!(refused, Err(QueueError::Unloading(7))),
        Ordering::SeqCst,
    );
}

#[test]
fn a_rundown_the_unload_waited_for_never_reopens() {
    let exec = Executive::manual();
    let host_driver = load_ex_driver(&exec, "reopen.sys", &[&REOPENED_LATE]);
    reopens_after_unload::queue(
        driver_object(&host_driver),
        1,
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    host_driver
        .unload()
        .expect("unload with Io work pending is legal");
    assert!(
        exec.is_image_mapped("reopen.sys"),
        "the driver-bound item keeps the image"
    );
    assert_eq!(
        exec.run_until_idle(),
        1,
        "only the driver-bound routine ran"
    );
    assert!(
        !LATE_REOPEN.load(Ordering::SeqCst),
        "reopened after the unload waited for it"
    );
    assert!(LATE_QUEUE_REFUSED.load(Ordering::SeqCst));
    assert!(!exec.is_image_mapped("reopen.sys"));
    assert_eq!(exec.bug_check(), None);
}

static WITHOUT_UNLOAD: Rundown = Rundown::new();

#[test]
fn a_rundown_opens_only_for_a_driver_whose_unload_waits_for_it() {
    let exec = Executive::manual();
    let host_driver = exec.load_driver("nounload.sys");
    let driver = driver_object(&host_driver);
    assert_eq!(
        WITHOUT_UNLOAD.open(driver, &Passive::on_host()),
        Err(OpenError::NoUnload)
    );
    assert!(matches!(
        late_ex::queue(&WITHOUT_UNLOAD, 1, WorkQueue::Delayed, &Passive::on_host()),
        Err(QueueError::NotOpen(1))
    ));
    driver.set_unload(|_, _| {}, &Passive::on_host()).unwrap();
    assert_eq!(
        driver.set_unload(|_, _| {}, &Passive::on_host()),
        Err(SetUnloadError::AlreadySet)
    );
    assert_eq!(WITHOUT_UNLOAD.open(driver, &Passive::on_host()), Ok(()));
    assert_eq!(
        WITHOUT_UNLOAD.open(driver, &Passive::on_host()),
        Ok(()),
        "opening twice does nothing"
    );
    late_ex::queue(&WITHOUT_UNLOAD, 2, WorkQueue::Delayed, &Passive::on_host()).unwrap();
    assert_eq!(exec.run_until_idle(), 1);
}

static CHAIN: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());

unsafe extern "system" fn framework_unload(_driver: ntwork::ffi::PDRIVER_OBJECT) {
    CHAIN.lock().unwrap().push("framework");
}

/// A KMDF driver's framework sets DriverUnload in `WdfDriverCreate`; ntwork's
/// keeps it and calls it last.
#[test]
fn ntwork_unload_keeps_the_unload_set_before_it_and_calls_it_last() {
    let exec = Executive::manual();
    let host_driver = exec.load_driver("chain.sys");
    host_driver.set_unload(Some(framework_unload));
    driver_object(&host_driver)
        .set_unload(
            |_, _| CHAIN.lock().unwrap().push("driver"),
            &Passive::on_host(),
        )
        .unwrap();
    host_driver.unload().expect("unload");
    assert_eq!(*CHAIN.lock().unwrap(), ["driver", "framework"]);
}

// ---- Finding 7: a forgotten lent item ------------------------------------

// Forgetting is the point: what a driver might do with a value it thinks it
// owns (clippy sees the lent item has no `Drop` of its own: the trampoline
// that lent it frees it).
#[allow(clippy::forget_non_drop)]
#[work_item(device)]
fn forgets_its_item(
    _device: &DeviceObject,
    _n: u32,
    item: RunningIoWorkItem<'_, forgets_its_item>,
) {
    std::mem::forget(item);
}

/// Before v3 the lent item freed itself in its `Drop`, so forgetting it
/// leaked the IO_WORKITEM and its block past the image: Driver Verifier's
/// 0xC4/0x62 at unload. The trampoline that lends it frees it now.
#[test]
fn a_forgotten_lent_item_is_freed_when_its_routine_returns() {
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    let host_driver = exec.load_driver("forget.sys");
    let device = host_driver.create_device();
    forgets_its_item::queue(object(&device), 1, WorkQueue::Delayed, &Passive::on_host()).unwrap();
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
    drop(device);
    host_driver.unload().expect("no 0xC4/0x62: nothing leaked");
    assert_eq!(exec.bug_check(), None);
}

// ---- Finding 8: a panic whose payload panics when dropped ----------------

struct PanicsWhenDropped;

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("the payload's own destructor (expected by the test)");
    }
}

static PAYLOAD_RAN: AtomicUsize = AtomicUsize::new(0);

#[work_item]
fn panics_with_a_bad_payload(_: u32) {
    PAYLOAD_RAN.fetch_add(1, Ordering::SeqCst);
    std::panic::panic_any(PanicsWhenDropped);
}

/// Before v3 the guard dropped the payload outside any catch: its panic
/// aborted the test process. It ends as the host diagnostic now.
#[test]
fn a_panic_whose_payload_panics_when_dropped_ends_as_the_host_diagnostic() {
    static WORK: Rundown = Rundown::new();
    let exec = Executive::manual();
    let _driver = load_ex_driver(&exec, "payload.sys", &[&WORK]);
    panics_with_a_bad_payload::queue(&WORK, 1, WorkQueue::Delayed, &Passive::on_host()).unwrap();
    assert!(exec.run_next(), "the process is still here");
    assert_eq!(PAYLOAD_RAN.load(Ordering::SeqCst), 1);
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_RUST_PANIC);
    assert!(stop.is_host_diagnostic());
}

// ---- Findings 4 and 5: KMDF items and their contexts ---------------------

mod kmdf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex, mpsc};
    use std::time::Duration;

    use ntwork::ffi::wdf as w;
    use ntwork::irql::Passive;
    use ntwork::wdf::{Enqueued, RunningWdfWorkItem, Serialization, WdfDevice, WdfWorkItemRef};
    use ntwork::work_item;
    use ntwork_host::Executive;
    use ntwork_host::wdf::WdfDeviceConfig;
    use ntwork_suite::{Counted, Tally};

    fn wdf_device(handle: &ntwork_host::wdf::WdfDeviceHandle) -> &WdfDevice {
        WdfDevice::of(handle)
    }

    #[work_item(wdf)]
    fn sibling_a(_count: &AtomicUsize) {}

    /// What sibling B found of sibling A while the device was being removed.
    static FOUND: Mutex<Option<Option<Enqueued>>> = Mutex::new(None);

    struct Gate {
        started: Mutex<Option<mpsc::Sender<()>>>,
        open: Mutex<Option<mpsc::Receiver<()>>>,
    }

    #[work_item(wdf)]
    fn sibling_b(gate: &Gate, item: &RunningWdfWorkItem<'_, sibling_b>) {
        if let Some(started) = gate.started.lock().unwrap().take() {
            started.send(()).unwrap();
        }
        if let Some(open) = gate.open.lock().unwrap().take() {
            open.recv().unwrap();
        }
        let found = WdfWorkItemRef::<sibling_a>::kept(item.parent())
            .map(|a| a.enqueue(&Passive::on_host()));
        *FOUND.lock().unwrap() = Some(found);
    }

    /// PnP removal disposes a device's items one by one; a sibling still
    /// running looks the other up through the device. Before v3 `kept`
    /// returned the disposed item's handle (its context dropped, its memory
    /// about to go): a null dereference. Now it finds nothing, or an item
    /// whose enqueue reports `Deleted`; never a freed one.
    #[test]
    fn kept_never_returns_a_disposed_sibling() {
        let exec = Executive::new();
        let driver = exec.load_driver("siblings.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let (started_tx, started_rx) = mpsc::channel();
        let (open_tx, open_rx) = mpsc::channel();
        {
            let device = wdf_device(&handle);
            sibling_a::create(
                device,
                AtomicUsize::new(0),
                Serialization::None,
                &Passive::on_host(),
            )
            .unwrap()
            .keep_in_parent(&Passive::on_host())
            .unwrap();
            sibling_b::create(
                device,
                Gate {
                    started: Mutex::new(Some(started_tx)),
                    open: Mutex::new(Some(open_rx)),
                },
                Serialization::None,
                &Passive::on_host(),
            )
            .unwrap()
            .keep_in_parent(&Passive::on_host())
            .unwrap();
            let b = WdfWorkItemRef::<sibling_b>::kept(device).unwrap();
            assert_eq!(b.enqueue(&Passive::on_host()), Enqueued::Queued);
        }
        started_rx.recv().unwrap();
        std::thread::scope(|s| {
            let remover = s.spawn(|| {
                let _bound = exec.enter();
                handle.delete(); // waits for B's running callback
            });
            std::thread::sleep(Duration::from_millis(50));
            open_tx.send(()).unwrap();
            remover.join().unwrap();
        });
        let found = FOUND.lock().unwrap().take().expect("B's callback ran");
        assert!(
            matches!(found, None | Some(Enqueued::Deleted)),
            "B reached a disposed sibling as if it were live: {found:?}"
        );
        assert_eq!(exec.bug_check(), None);
        assert_eq!(driver.unload(), Ok(()));
    }

    /// Context of an item that requeues itself, then deletes itself, in its
    /// first callback.
    struct Requeued {
        callbacks: AtomicUsize,
        counted: Counted,
        tally: Arc<Tally>,
    }

    /// Contexts dropped when the first callback had deleted its item.
    static DROPPED_AFTER_DELETE: AtomicUsize = AtomicUsize::new(usize::MAX);

    #[work_item(wdf)]
    fn requeue_then_delete(context: &Requeued, item: &RunningWdfWorkItem<'_, requeue_then_delete>) {
        if context.callbacks.fetch_add(1, Ordering::SeqCst) == 0 {
            assert_eq!(item.enqueue(), Enqueued::Queued);
            // What a C callback may do, and KMDF allows: the running handle
            // has no delete of its own.
            // SAFETY: the live item, left to its parent by the test.
            unsafe { w::WdfObjectDelete(item.as_raw().cast()) };
            DROPPED_AFTER_DELETE.store(context.tally.dropped(), Ordering::SeqCst);
        }
        // Used after the delete, and in the callback the enqueue still runs.
        context.counted.mark_ran();
    }

    /// The enqueue keeps a reference, so the framework runs the callback once
    /// more after the delete's cleanup. Before v3 that cleanup dropped the
    /// context: both the rest of the first callback and the second one used
    /// a dropped context. Now the context goes at the last reference.
    #[test]
    fn a_requeue_then_delete_inside_the_callback_keeps_the_context_to_the_last_reference() {
        let exec = Executive::manual();
        let driver = exec.load_driver("requeue.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let tally = Tally::new();
        {
            let item = requeue_then_delete::create(
                wdf_device(&handle),
                Requeued {
                    callbacks: AtomicUsize::new(0),
                    counted: Counted::new(&tally, 0),
                    tally: Arc::clone(&tally),
                },
                Serialization::None,
                &Passive::on_host(),
            )
            .unwrap();
            assert_eq!(item.enqueue(&Passive::on_host()), Enqueued::Queued);
            item.leave_to_parent();
        }
        assert_eq!(
            exec.run_until_idle(),
            2,
            "the callback ran again after the delete"
        );
        assert_eq!(
            DROPPED_AFTER_DELETE.load(Ordering::SeqCst),
            0,
            "the delete's cleanup dropped the context under the running callback"
        );
        assert_eq!(
            (tally.ran(), tally.dropped()),
            (2, 1),
            "the context outlived both calls, dropped once"
        );
        assert_eq!(exec.bug_check(), None);
        handle.delete();
        assert_eq!(driver.unload(), Ok(()));
    }
}
