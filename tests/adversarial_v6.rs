//! Safe attacker programs, round 6: `HeldExtension` (the remove lock) against
//! the delete, the drop's deferred delete, unload and the host's manual
//! executive; the owned KMDF item's own reference against
//! `enqueue_and_leave` after its parent's removal, a refused keep, a drop at
//! DISPATCH_LEVEL and a requeue before the owner drops in its callback.
//!
//! Findings 1-3 are `#[ignore]`d with their observed output. Finding 4 (the
//! macro rejecting valid programs) cannot be a test here, since the program
//! does not compile; its reproducer:
//!
//! ```text
//! mod jobs { pub trait Error: Send { fn report(self: Box<Self>); } }
//! #[work_item] fn report(job: Box<dyn jobs::Error>) { job.report(); }
//! // error: a work item's context moves to a system worker thread, so it must
//! //        be `Send`, ...: write `Box<dyn jobs :: Error + Send>`
//! type Me = aliased;
//! #[work_item(wdf)] fn aliased(c: &u32, item: &RunningWdfWorkItem<'_, Me>) {}
//! // error: a KMDF routine receives its own work item: write
//! //        `&RunningWdfWorkItem<'_, aliased>`
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ntwork::ffi::FILE_DEVICE_UNKNOWN;
use ntwork::irql::{Dispatch, Passive};
use ntwork::wdf::{Enqueued, Serialization, WdfDevice, WdfWorkItem};
use ntwork::{
    Device, DeviceObject, DeviceOptions, DriverObject, HeldExtension, WorkQueue, work_item,
};
use ntwork_host::Executive;
use ntwork_host::wdf::WdfDeviceConfig;

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

static HELD_RAN: AtomicUsize = AtomicUsize::new(0);

#[work_item(device)]
fn finish(device: &DeviceObject, disk: HeldExtension<Heap>) {
    let _ = device;
    assert_eq!(disk.data.iter().sum::<u64>(), 10);
    HELD_RAN.fetch_add(1, Ordering::SeqCst);
}

// ---- probe A: a delete on a manual executive while another thread holds ---

/// Finding 1: `delete_now` (runtime/src/device/delete.rs) drops `E` after
/// `guards.wait()` returns, but the host's rundown wait returns without the
/// holders' release on a diagnostic (manual executive: another item pending,
/// none running; or a wait above APC_LEVEL). Here the holder is another
/// thread, which Windows waits for; the unrelated pending item makes the host
/// call the wait blocked, and the extension is dropped under the live guard.
/// Observed: `dropped under the guard: true`, `HOST_MANUAL_WAIT_BLOCKS`, a
/// garbage sum; ASan: heap-use-after-free (READ of size 8 in the `sum`, freed
/// by `Device::destroy` on the deleting thread).
#[test]
#[ignore = "finding 1"]
fn probe_a_manual_delete_while_another_thread_holds() {
    let exec = Executive::manual();
    let driver = exec.load_driver("heldman.sys");
    let irql = Passive::on_host();
    let dropped = Arc::new(AtomicBool::new(false));
    let device =
        Device::create(DriverObject::of(&driver), heap(&dropped), options(), &irql).unwrap();
    // Unrelated work, pending (the test runs it later).
    noop::queue(device.object(), WorkQueue::Delayed, &irql).unwrap();
    let held = device
        .object()
        .extension::<Heap>(&irql)
        .unwrap()
        .into_held();
    std::thread::scope(|scope| {
        let deleting = scope.spawn(|| {
            let _bound = exec.enter();
            device.delete(&Passive::on_host());
        });
        std::thread::sleep(Duration::from_millis(500));
        eprintln!(
            "dropped under the guard: {}",
            dropped.load(Ordering::SeqCst)
        );
        eprintln!("bug check: {:?}", exec.bug_check());
        // Safe code reads the extension the guard holds.
        eprintln!("sum {}", held.data.iter().sum::<u64>());
        drop(held);
        deleting.join().unwrap();
    });
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

/// Finding 2: `enqueue_and_leave` (runtime/src/wdf/item.rs, `enqueue_and_leave`)
/// gives up the item's own reference (`leave_to_parent`) before it enqueues.
/// Once the parent's removal disposed the item (round 5's scenario), that
/// reference was the last: the item is destroyed, then `enqueue::<R>` reads
/// the slot of a freed handle. Observed: "null pointer dereference occurred"
/// in `ntwork::wdf::context::slot` (from `WdfObjectGetTypedContextWorker` of
/// the dead handle) <- `enqueue` <- `enqueue_and_leave`, then SIGABRT (the
/// test process dies); a use-after-free of the handle on Windows.
#[test]
#[ignore = "finding 2"]
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
    let enqueued = item.enqueue_and_leave(&irql);
    eprintln!(
        "enqueued: {enqueued:?}; dropped {}",
        LEFT_DROPPED.load(Ordering::SeqCst)
    );
    eprintln!("ran {}", exec.run_until_idle());
    eprintln!("bug check: {:?}", exec.bug_check());
    eprintln!("unload: {:?}", driver.unload());
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
/// `run_until_idle` on the thread that holds a `HeldExtension`, waits for
/// ever: `into_held` takes the guard off the thread's list (so no "holds an
/// ExtensionRef" panic, as for an `ExtensionRef`), and the host's
/// `manual_wait_blocks` (host/src/dispatch.rs) never fires while a routine
/// runs, the waiting one included. On Windows the holder is not the worker.
/// Observed: prints "running the deferred delete", then hangs (killed by
/// `timeout 60`).
#[test]
#[ignore = "finding 3"]
fn probe_f_manual_drop_then_run_while_this_thread_holds() {
    let exec = Executive::manual();
    let driver = exec.load_driver("heldrun.sys");
    let irql = Passive::on_host();
    let dropped = Arc::new(AtomicBool::new(false));
    let device =
        Device::create(DriverObject::of(&driver), heap(&dropped), options(), &irql).unwrap();
    let held = device
        .object()
        .extension::<Heap>(&irql)
        .unwrap()
        .into_held();
    drop(device);
    eprintln!("running the deferred delete");
    eprintln!("ran {}", exec.run_until_idle());
    eprintln!("bug check: {:?}", exec.bug_check());
    drop(held);
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
    let dropped = Arc::new(AtomicBool::new(false));
    let device =
        Device::create(DriverObject::of(&driver), heap(&dropped), options(), &irql).unwrap();
    let held = device
        .object()
        .extension::<Heap>(&irql)
        .unwrap()
        .into_held();
    drop(device);
    std::thread::sleep(Duration::from_millis(50));
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(held.data.iter().sum::<u64>(), 10);
        drop(held);
    });
    assert_eq!(driver.unload(), Ok(()));
    assert!(
        exec.is_image_mapped("heldunl.sys"),
        "the queued delete keeps the image"
    );
    assert!(!dropped.load(Ordering::SeqCst));
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
    let dropped = Arc::new(AtomicBool::new(false));
    let device =
        Device::create(DriverObject::of(&driver), heap(&dropped), options(), &irql).unwrap();
    let held = device
        .object()
        .extension::<Heap>(&irql)
        .unwrap()
        .into_held();
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
/// goes on), the wait that must block above APC_LEVEL returns
/// (`HOST_IRQL_TOO_HIGH` path), and `E` is dropped under the other thread's
/// guard. Observed: `dropped under the guard: true`, `HOST_IRQL_PROOF`, a
/// garbage sum.
#[test]
#[ignore = "finding 1"]
fn probe_a2_delete_with_a_passive_proof_at_dispatch_while_held() {
    let exec = Executive::new();
    let driver = exec.load_driver("heldirql.sys");
    let irql = Passive::on_host();
    let dropped = Arc::new(AtomicBool::new(false));
    let device =
        Device::create(DriverObject::of(&driver), heap(&dropped), options(), &irql).unwrap();
    let held = device
        .object()
        .extension::<Heap>(&irql)
        .unwrap()
        .into_held();
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
    eprintln!(
        "dropped under the guard: {}",
        dropped.load(Ordering::SeqCst)
    );
    eprintln!("bug check: {:?}", exec.bug_check());
    eprintln!("sum {}", held.data.iter().sum::<u64>());
    drop(held);
}

// ---- probe F2: the deferred delete runs before the work that holds ---------

/// Finding 3, no thread holding anything: the completion's work (holding the
/// extension) is queued after the drop's delete in the same queue. A second
/// worker runs it on Windows; the manual executive runs the delete first,
/// which waits for the pending item for ever. Observed: `pending 2`, then
/// the test process hangs (killed by `timeout 60`).
#[test]
#[ignore = "finding 3"]
fn probe_f2_manual_drop_before_the_holding_work() {
    let exec = Executive::manual();
    let driver = exec.load_driver("heldorder.sys");
    let irql = Passive::on_host();
    let dropped = Arc::new(AtomicBool::new(false));
    let device =
        Device::create(DriverObject::of(&driver), heap(&dropped), options(), &irql).unwrap();
    let host = driver.device(device.object().as_raw()).unwrap();
    let held = device
        .object()
        .extension::<Heap>(&irql)
        .unwrap()
        .into_held();
    drop(device); // the delete is queued (Delayed)
    // The request completes after: its work holds the extension.
    finish::queue(DeviceObject::of(&host), held, WorkQueue::Delayed, &irql).unwrap();
    eprintln!("pending {}", exec.pending());
    eprintln!("ran {}", exec.run_until_idle());
    eprintln!(
        "dropped {} bug check: {:?}",
        dropped.load(Ordering::SeqCst),
        exec.bug_check()
    );
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
