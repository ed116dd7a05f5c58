//! Safe attacker programs, round 6: `HeldExtension` (the remove lock) against
//! the delete, the drop's deferred delete, unload and the host's manual
//! executive; the owned KMDF item's own reference against
//! `enqueue_and_leave` after its parent's removal, a refused keep, a drop at
//! DISPATCH_LEVEL and a requeue before the owner drops in its callback.
//!
//! Findings 1-3 failed before their fixes (each test says how). Finding 4,
//! the macro rejecting a valid program, was `Box<dyn jobs::Error>` for a
//! driver's trait `Error: Send` ("write `Box<dyn jobs :: Error + Send>`"):
//! only std's traits are checked now (ui pass `boxed_trait_context`). The
//! item of a KMDF routine written through a type alias of the routine
//! (`type Me = aliased; ... &RunningWdfWorkItem<'_, Me>`) stays an error, as
//! on the Io path: the attribute reads the routine's own name there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ntwork::ffi::FILE_DEVICE_UNKNOWN;
use ntwork::irql::{Dispatch, Passive};
use ntwork::wdf::{Enqueued, Serialization, WdfDevice, WdfWorkItem};
use ntwork::{
    Device, DeviceObject, DeviceOptions, DriverObject, HeldExtension, WorkQueue, work_item,
};
use ntwork_host::wdf::WdfDeviceConfig;
use ntwork_host::{Executive, bugcheck};

fn options() -> DeviceOptions<'static> {
    DeviceOptions::new(FILE_DEVICE_UNKNOWN)
}

/// An extension with heap state: reading it after its drop is a
/// heap-use-after-free under ASan.
struct Heap {
    data: Vec<u64>,
    dropped: Arc<AtomicBool>,
}

impl Drop for Heap {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

fn heap(dropped: &Arc<AtomicBool>) -> Heap {
    Heap {
        data: vec![1, 2, 3, 4],
        dropped: Arc::clone(dropped),
    }
}

#[work_item(device)]
fn noop(device: &DeviceObject) {
    let _ = device;
}

/// A device of `driver` with a `Heap` extension, a `HeldExtension` of it,
/// and the extension's drop witness.
fn held_heap(driver: &ntwork_host::Driver) -> (Device<Heap>, HeldExtension<Heap>, Arc<AtomicBool>) {
    let irql = Passive::on_host();
    let dropped = Arc::new(AtomicBool::new(false));
    let device =
        Device::create(DriverObject::of(driver), heap(&dropped), options(), &irql).unwrap();
    let held = device
        .object()
        .extension::<Heap>(&irql)
        .unwrap()
        .into_held();
    (device, held, dropped)
}

static HELD_RAN: AtomicUsize = AtomicUsize::new(0);

#[work_item(device)]
fn finish(device: &DeviceObject, disk: HeldExtension<Heap>) {
    let _ = device;
    assert_eq!(disk.data.iter().sum::<u64>(), 10);
    HELD_RAN.fetch_add(1, Ordering::SeqCst);
}

// ---- probe A: a delete on a manual executive while another thread holds ---

/// Finding 1: `delete_now` (runtime/src/device/delete.rs) dropped `E` once
/// `guards.wait()` returned, but the host's rundown wait returns without the
/// holders' release after a diagnostic (a manual executive with work pending
/// and none running; a wait above APC_LEVEL). Here the holder is another
/// thread; the unrelated pending item makes the host call the wait blocked,
/// and the extension was dropped under the live guard (ASan:
/// heap-use-after-free in the `sum`, freed by `Device::destroy`). The wait
/// now says whether it ran down: the delete leaves `E` and the device.
#[test]
fn probe_a_manual_delete_while_another_thread_holds() {
    let exec = Executive::manual();
    let driver = exec.load_driver("heldman.sys");
    let irql = Passive::on_host();
    let (device, held, dropped) = held_heap(&driver);
    // Unrelated work, pending (the test runs it later).
    noop::queue(device.object(), WorkQueue::Delayed, &irql).unwrap();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let _bound = exec.enter();
                device.delete(&Passive::on_host());
            })
            .join()
            .unwrap();
    });
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_MANUAL_WAIT_BLOCKS);
    assert!(!dropped.load(Ordering::SeqCst), "dropped under the guard");
    assert_eq!(held.data.iter().sum::<u64>(), 10);
    drop(held);
    assert!(
        !dropped.load(Ordering::SeqCst),
        "a stopped executive frees nothing"
    );
}

// ---- probe B: enqueue_and_leave after the parent's removal -----------------

static LEFT_DROPPED: AtomicBool = AtomicBool::new(false);

struct Left {
    data: Vec<u64>,
}

impl Drop for Left {
    fn drop(&mut self) {
        LEFT_DROPPED.store(true, Ordering::SeqCst);
    }
}

#[work_item(wdf)]
fn left(context: &Left) {
    assert_eq!(context.data.len(), 4);
}

/// Finding 2: `enqueue_and_leave` (runtime/src/wdf/item.rs) gave up the
/// item's own reference before it enqueued. Once the parent's removal had
/// disposed the item (round 5's scenario), that reference was the last: the
/// item was destroyed, then `enqueue` read the slot of a freed handle ("null
/// pointer dereference occurred" in `wdf::context::slot`, SIGABRT). It now
/// enqueues under its reference: `Deleted`, and the context goes with that
/// reference, once.
#[test]
fn probe_b_enqueue_and_leave_after_the_parents_removal() {
    let exec = Executive::manual();
    let driver = exec.load_driver("leftrm.sys");
    let handle = driver.create_wdf_device(WdfDeviceConfig::default());
    let device = WdfDevice::of(&handle);
    let irql = Passive::on_host();
    let item: WdfWorkItem<'_, left> = left::create(
        device,
        Left {
            data: vec![1, 2, 3, 4],
        },
        Serialization::None,
        &irql,
    )
    .unwrap();
    handle.delete();
    assert!(!LEFT_DROPPED.load(Ordering::SeqCst));
    assert_eq!(item.enqueue_and_leave(&irql), Enqueued::Deleted);
    assert!(LEFT_DROPPED.load(Ordering::SeqCst));
    assert_eq!(exec.run_until_idle(), 0);
    assert_eq!(exec.bug_check(), None);
    assert_eq!(driver.unload(), Ok(()));
}

// ---- probe C: an owned item dropped at DISPATCH_LEVEL ----------------------

static DISP_DROPPED: AtomicUsize = AtomicUsize::new(0);

struct Disp {
    data: Vec<u64>,
}

impl Drop for Disp {
    fn drop(&mut self) {
        DISP_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

#[work_item(wdf)]
fn disp(context: &Disp) {
    assert_eq!(context.data.len(), 4);
}

/// Held: an owned, queued item dropped at DISPATCH_LEVEL; its context is
/// dropped once, after the queued run, and the unload leaks nothing.
#[test]
fn probe_c_owned_item_dropped_at_dispatch() {
    let exec = Executive::manual();
    let driver = exec.load_driver("disp.sys");
    let pool = exec.pool_outstanding();
    let handle = driver.create_wdf_device(WdfDeviceConfig::default());
    let device = WdfDevice::of(&handle);
    let irql = Passive::on_host();
    let item: WdfWorkItem<'_, disp> = disp::create(
        device,
        Disp {
            data: vec![1, 2, 3, 4],
        },
        Serialization::None,
        &irql,
    )
    .unwrap();
    assert_eq!(item.enqueue(&irql), Enqueued::Queued);
    ntwork_host::at_dispatch_level(|| {
        let _d = Dispatch::on_host();
        drop(item);
    });
    // The delete is deferred to PASSIVE_LEVEL: nothing dropped yet.
    assert_eq!(DISP_DROPPED.load(Ordering::SeqCst), 0);
    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(DISP_DROPPED.load(Ordering::SeqCst), 1);
    assert_eq!(exec.bug_check(), None);
    handle.delete();
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.pool_outstanding(), pool);
}

// ---- probe E: the owner dropped inside its own callback after a requeue ----

mod requeue_then_drop {
    use super::*;
    use ntwork::wdf::RunningWdfWorkItem;
    use std::sync::Mutex;

    static OWNED: Mutex<Option<WdfWorkItem<'static, rq>>> = Mutex::new(None);
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static REQUEUES: Mutex<Vec<Enqueued>> = Mutex::new(Vec::new());

    struct Ctx(Vec<u64>);

    impl Drop for Ctx {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[work_item(wdf)]
    fn rq(context: &Ctx, item: &RunningWdfWorkItem<'_, rq>) {
        RUNS.fetch_add(1, Ordering::SeqCst);
        let e = item.enqueue();
        REQUEUES.lock().unwrap().push(e);
        drop(OWNED.lock().unwrap().take());
        assert_eq!(context.0.iter().sum::<u64>(), 6);
        let _ = item.parent().as_raw();
    }

    /// Held: the callback requeues its item, then drops its owner (the
    /// delete from the callback): the queued run still runs (its requeue is
    /// refused as `Deleted`), the context is dropped once, nothing leaks.
    #[test]
    fn probe_e_requeue_then_the_owner_dropped_in_its_callback() {
        let exec = Executive::manual();
        let driver = exec.load_driver("rq.sys");
        let pool = exec.pool_outstanding();
        let handle: &'static _ = Box::leak(Box::new(
            driver.create_wdf_device(WdfDeviceConfig::default()),
        ));
        let device: &'static WdfDevice = WdfDevice::of(handle);
        let irql = Passive::on_host();
        let item = rq::create(device, Ctx(vec![1, 2, 3]), Serialization::None, &irql).unwrap();
        let _ = item.enqueue(&irql);
        *OWNED.lock().unwrap() = Some(item);
        assert_eq!(exec.run_until_idle(), 2);
        assert_eq!(RUNS.load(Ordering::SeqCst), 2);
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
        assert_eq!(
            *REQUEUES.lock().unwrap(),
            [Enqueued::Queued, Enqueued::Deleted]
        );
        assert_eq!(exec.bug_check(), None);
        handle.delete();
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.pool_outstanding(), pool);
    }
}

// ---- probe F: a dropped Device's deferred delete run by the holder ---------

/// Finding 3: on a manual executive the dropped device's delete, run by
/// `run_until_idle` on the thread that holds a `HeldExtension`, waited for
/// ever: `into_held` takes the guard off the thread's list (so no "holds an
/// ExtensionRef" panic), and the host's blocked-wait check never fired while
/// a routine ran, the waiting one included. On Windows the holder is not the
/// worker. The check now leaves out the waiting thread's own routine.
#[test]
fn probe_f_manual_drop_then_run_while_this_thread_holds() {
    let exec = Executive::manual();
    let driver = exec.load_driver("heldrun.sys");
    let (device, held, dropped) = held_heap(&driver);
    drop(device);
    // The deferred delete runs on this thread, which holds the guard: the
    // host's labelled stop, not a hang; `E` stays.
    assert_eq!(exec.run_until_idle(), 1);
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_MANUAL_WAIT_BLOCKS);
    assert_eq!(held.data.iter().sum::<u64>(), 10);
    drop(held);
    assert!(!dropped.load(Ordering::SeqCst));
}

// ---- probe G: unload while the dropped device's delete waits for a holder ---

/// Held: a dropped `Device` whose worker delete waits for a `HeldExtension`
/// on another thread, across ntwork's unload: the unload returns, the image
/// stays until the holder drops, then the extension is dropped once and
/// nothing leaks. (With the host's default DriverUnload, which
/// `IoDeleteDevice`s every device, the same program is 0x18: a C-style
/// unload deleting a device ntwork owns, not safe code's doing.)
#[test]
fn probe_g_unload_while_a_holder_keeps_the_delete_waiting() {
    let exec = Executive::new();
    let driver = exec.load_driver("heldunl.sys");
    driver.set_unload(None);
    let irql = Passive::on_host();
    DriverObject::of(&driver)
        .set_unload(|_, _| {}, &irql)
        .unwrap();
    let (device, held, dropped) = held_heap(&driver);
    drop(device);
    let (go, go_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        go_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(held.data.iter().sum::<u64>(), 10);
        drop(held);
    });
    assert_eq!(driver.unload(), Ok(()));
    assert!(
        exec.is_image_mapped("heldunl.sys"),
        "the queued delete keeps the image"
    );
    assert!(!dropped.load(Ordering::SeqCst));
    go.send(()).unwrap();
    holder.join().unwrap();
    exec.wait_idle();
    assert!(dropped.load(Ordering::SeqCst));
    assert!(!exec.is_image_mapped("heldunl.sys"));
    assert_eq!(exec.bug_check(), None);
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.io_work_items_outstanding(), 0);
}

// ---- probe I: a held extension in work pending when the executive drops ----

/// Held: a `HeldExtension` in Io work still pending (and the device's drop
/// queued) when the executive is dropped: leaked, no crash, no drop.
#[test]
fn probe_i_held_in_pending_work_when_the_executive_drops() {
    let exec = Executive::manual();
    let driver = exec.load_driver("heldexec.sys");
    let irql = Passive::on_host();
    let (device, held, dropped) = held_heap(&driver);
    finish::queue(device.object(), held, WorkQueue::Delayed, &irql).unwrap();
    drop(device);
    assert_eq!(exec.pending(), 2);
    drop(driver);
    drop(exec);
    // Leaked with the work, never dropped under it.
    assert!(!dropped.load(Ordering::SeqCst));
}

// ---- probe A2: a delete whose wait is cut short by a diagnostic ------------

/// Finding 1, the same root cause through the IRQL diagnostics: a PASSIVE
/// proof used at DISPATCH_LEVEL is `HOST_IRQL_PROOF` (recorded, and the call
/// goes on), the wait that must block above APC_LEVEL returns at once, and
/// `E` was dropped under the other thread's guard. Now the delete sees the
/// rundown still held and leaves `E`.
#[test]
fn probe_a2_delete_with_a_passive_proof_at_dispatch_while_held() {
    let exec = Executive::new();
    let driver = exec.load_driver("heldirql.sys");
    let (device, held, dropped) = held_heap(&driver);
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let _bound = exec.enter();
                let irql = Passive::on_host();
                ntwork_host::at_dispatch_level(|| device.delete(&irql));
            })
            .join()
            .unwrap();
    });
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_IRQL_PROOF);
    assert!(!dropped.load(Ordering::SeqCst), "dropped under the guard");
    assert_eq!(held.data.iter().sum::<u64>(), 10);
    drop(held);
}

// ---- probe F2: the deferred delete runs before the work that holds ---------

/// Finding 3, no thread holding anything: the completion's work (holding the
/// extension) is queued after the drop's delete in the same queue. A second
/// worker runs it on Windows; the manual executive runs the delete first,
/// which waited for the pending item for ever. Now the host's labelled stop
/// (a manual executive runs one item at a time: queue the delete after the
/// work, or use `Executive::new()`), and `E` stays.
#[test]
fn probe_f2_manual_drop_before_the_holding_work() {
    let exec = Executive::manual();
    let driver = exec.load_driver("heldorder.sys");
    let irql = Passive::on_host();
    let (device, held, dropped) = held_heap(&driver);
    let host = driver.device(device.object().as_raw()).unwrap();
    drop(device); // the delete is queued (Delayed)
    // The request completes after: its work holds the extension.
    finish::queue(DeviceObject::of(&host), held, WorkQueue::Delayed, &irql).unwrap();
    assert_eq!(exec.pending(), 2);
    assert_eq!(exec.run_until_idle(), 1);
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_MANUAL_WAIT_BLOCKS);
    assert_eq!(stop.parameters[2], 1, "the holding work, pending");
    assert!(!dropped.load(Ordering::SeqCst));
    assert_eq!(HELD_RAN.load(Ordering::SeqCst), 0);
}

// ---- probe H: keep_in_parent refused, the item dropped; several owners -----

static KEEP_DROPS: AtomicUsize = AtomicUsize::new(0);

struct Keep {
    data: Vec<u64>,
}

impl Drop for Keep {
    fn drop(&mut self) {
        KEEP_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[work_item(wdf)]
fn keep(context: &Keep) {
    assert_eq!(context.data.len(), 2);
}

/// Held: a keep refused (`STATUS_OBJECT_NAME_EXISTS`), the item it hands
/// back dropped at DISPATCH_LEVEL while queued, a one-shot item left with
/// `enqueue_and_leave`: each context dropped once, the unload leaks nothing.
#[test]
fn probe_h_keep_refused_then_dropped_and_unload_leaks_nothing() {
    let exec = Executive::manual();
    let driver = exec.load_driver("keeprf.sys");
    let pool = exec.pool_outstanding();
    let handle = driver.create_wdf_device(WdfDeviceConfig::default());
    let device = WdfDevice::of(&handle);
    let irql = Passive::on_host();
    let first = keep::create(
        device,
        Keep { data: vec![1, 2] },
        Serialization::None,
        &irql,
    )
    .unwrap();
    let second = keep::create(
        device,
        Keep { data: vec![3, 4] },
        Serialization::None,
        &irql,
    )
    .unwrap();
    assert_eq!(first.enqueue(&irql), Enqueued::Queued);
    first.keep_in_parent(&irql).map_err(|e| e.status).unwrap();
    assert_eq!(second.enqueue(&irql), Enqueued::Queued);
    let refused = second.keep_in_parent(&irql).unwrap_err();
    assert_eq!(refused.status, 0x4000_0000, "STATUS_OBJECT_NAME_EXISTS");
    let item = refused.item;
    ntwork_host::at_dispatch_level(|| {
        let _d = Dispatch::on_host();
        drop(item);
    });
    let third = keep::create(
        device,
        Keep { data: vec![5, 6] },
        Serialization::None,
        &irql,
    )
    .unwrap();
    assert_eq!(third.enqueue_and_leave(&irql), Enqueued::Queued);
    assert_eq!(exec.run_until_idle(), 4);
    assert_eq!(KEEP_DROPS.load(Ordering::SeqCst), 1, "the refused item's");
    handle.delete();
    assert_eq!(KEEP_DROPS.load(Ordering::SeqCst), 3);
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.pool_outstanding(), pool);
    assert_eq!(exec.bug_check(), None);
}
