//! Safe attacker programs, round 3: code that raises the IRQL with the one
//! safe raise there is (`SpinLock::lock`) and calls what its `Dispatch`
//! proof allows there, or drops what it holds there; `set_unload` from code
//! that runs after the unload began; a reusable item flushed from two
//! threads at once. Each asserts what would fail if the attack got through
//! (and runs under ASan in `.ci/run`).

use ntwork::irql::{Dispatch, Passive};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ntwork::ffi::{FILE_DEVICE_UNKNOWN, NTSTATUS, STATUS_DELETE_PENDING};
use ntwork::{
    Device, DeviceOptions, DriverObject, OpenError, ReusableExWorkItem, Rundown, SetUnloadError,
    SpinLock, WorkQueue, work_item,
};
use ntwork_host::Executive;
use ntwork_suite::{driver_object, load_ex_driver};

// ---- DriverEntry's calls under a spin lock ---------------------------------

/// `set_unload` takes a `Dispatch` proof (`IoAllocateDriverObjectExtension`
/// is documented at IRQL <= DISPATCH_LEVEL), so safe code may call it under a
/// spin lock. The host checked APC_LEVEL there and stopped the test with
/// `HOST_IRQL_TOO_HIGH`, which Windows never raises for it.
#[test]
fn set_unload_and_open_under_a_spin_lock_are_what_windows_allows() {
    static UNDER_LOCK: Rundown = Rundown::new();
    let exec = Executive::manual();
    let host_driver = exec.load_driver("locked.sys");
    let driver = driver_object(&host_driver);
    let lock = SpinLock::new(0_u32);
    let mut irql = Passive::on_host();
    lock.lock(&mut irql, |count, dispatch: &Dispatch<'_>| {
        driver.set_unload(|_, _| {}, dispatch).unwrap();
        UNDER_LOCK.open(driver, dispatch).unwrap();
        *count += 1;
    });
    assert_eq!(exec.bug_check(), None);
    assert_eq!(host_driver.unload(), Ok(()));
    assert!(UNDER_LOCK.is_running_down(), "the unload waited for it");
    assert_eq!(exec.bug_check(), None);
}

// ---- a device dropped under a spin lock ----------------------------------

/// `Device<E>`'s delete is PASSIVE_LEVEL (`IoDeleteDevice`, the guards'
/// wait) and `Drop` takes no proof, so safe code can drop one at
/// DISPATCH_LEVEL, here under a `SpinLock`. Before, the drop deleted at
/// once (Windows: 0xA or a hang; the host: its IRQL diagnostic); now it
/// queues the delete on the device's own work item, run at PASSIVE_LEVEL.
#[test]
fn a_device_dropped_under_a_spin_lock_is_deleted_on_a_worker() {
    let exec = Executive::manual();
    let host_driver = exec.load_driver("droplocked.sys");
    let driver = driver_object(&host_driver);
    let mut irql = Passive::on_host();
    let options = DeviceOptions::new(FILE_DEVICE_UNKNOWN);
    let device = Device::create(driver, AtomicUsize::new(0), options, &irql).unwrap();
    let host = host_driver.device(device.object().as_raw()).unwrap();
    let slot = SpinLock::new(Some(device));
    slot.lock(&mut irql, |device, _| drop(device.take()));
    assert_eq!(exec.bug_check(), None);
    assert!(!host.is_freed());
    assert_eq!(exec.run_until_idle(), 1);
    assert!(host.is_freed());
    assert_eq!(exec.bug_check(), None);
}

// ---- set_unload after the I/O manager began the unload ---------------------

static LATE: Rundown = Rundown::new();
static LATE_GO: AtomicBool = AtomicBool::new(false);
static LATE_STARTED: AtomicBool = AtomicBool::new(false);
static LATE_REFUSED: AtomicUsize = AtomicUsize::new(0);

#[work_item(rundown = LATE)]
fn late_ex(_: u32) {}

/// Io work bound to the driver object: the queue's reference keeps the
/// image mapped past DriverUnload, so this routine still runs driver code
/// after the I/O manager called the DriverUnload the driver had (a KMDF
/// driver's framework sets one; the host's default stands for it).
#[work_item(driver)]
fn installs_unload_late(driver: &DriverObject, _: u32, irql: &mut Passive<'_>) {
    LATE_STARTED.store(true, Ordering::SeqCst);
    while !LATE_GO.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    if let Err(refused) = driver.set_unload(|_, _| {}, irql) {
        assert_eq!(refused, SetUnloadError::Unloading);
        assert_eq!(NTSTATUS::from(refused), STATUS_DELETE_PENDING);
        assert_eq!(LATE.open(driver, irql), Err(OpenError::NoUnload));
        LATE_REFUSED.fetch_add(1, Ordering::SeqCst);
        return;
    }
    if LATE.open(driver, irql).is_err() {
        LATE_REFUSED.fetch_add(1, Ordering::SeqCst);
        return;
    }
    if late_ex::queue(0, WorkQueue::Delayed, irql).is_err() {
        LATE_REFUSED.fetch_add(1, Ordering::SeqCst);
    }
}

/// `set_unload` wrote ntwork's DriverUnload into a driver object whose
/// unload the I/O manager had already invoked (with the routine that was
/// there), so nothing would ever wait for a rundown opened after it: Ex work
/// queued under it ran in the unmapped image (0xCE). The I/O manager sets
/// `DRVO_UNLOAD_INVOKED` before it calls DriverUnload; `set_unload` now
/// refuses once it is set, and rundowns refuse to open for that driver.
#[test]
fn set_unload_after_the_unload_began_is_refused() {
    let exec = Executive::new();
    let host_driver = exec.load_driver("lateunload.sys");
    let driver = driver_object(&host_driver);
    installs_unload_late::queue(driver, 0, WorkQueue::Delayed, &Passive::on_host()).unwrap();
    while !LATE_STARTED.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    {
        let _bound = exec.enter();
        assert_eq!(
            host_driver.unload(),
            Ok(()),
            "the host's default DriverUnload"
        );
    }
    LATE_GO.store(true, Ordering::SeqCst);
    exec.wait_idle();
    assert_eq!(exec.bug_check(), None);
    assert_eq!(LATE_REFUSED.load(Ordering::SeqCst), 1, "refused");
}

// ---- a reusable Ex item flushed from two threads at once ------------------

static TWO_FLUSHES: Rundown = Rundown::new();

/// The routine's context: it runs until `release` is set, and records that
/// it returned.
struct Slow {
    started: AtomicBool,
    release: AtomicBool,
    returned: AtomicUsize,
}

#[work_item]
fn slow(state: &Slow) {
    state.started.store(true, Ordering::SeqCst);
    while !state.release.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    std::thread::sleep(std::time::Duration::from_millis(5));
    state.returned.fetch_add(1, Ordering::SeqCst);
}

/// Two threads flush one reusable Ex item while its routine runs (a stop
/// path and a surprise removal, say): the kernel allows one waiter on a
/// rundown, so the second polls. Neither returns before the routine has,
/// and after both the item accepts work again (the reopen is claimed once:
/// two re-initializations could reset a count taken in between).
#[test]
fn two_threads_flushing_one_reusable_ex_item_both_wait_for_its_routine() {
    let exec = Executive::new();
    let host_driver = load_ex_driver(&exec, "twoflush.sys", &[&TWO_FLUSHES]);
    let item = Arc::new(ReusableExWorkItem::<slow>::new(
        &TWO_FLUSHES,
        Slow {
            started: AtomicBool::new(false),
            release: AtomicBool::new(false),
            returned: AtomicUsize::new(0),
        },
    ));
    item.queue(WorkQueue::Delayed, &Passive::on_host()).unwrap();
    while !item.context().started.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    std::thread::scope(|scope| {
        let flushers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let _bound = exec.enter();
                    item.flush(&Passive::on_host());
                    item.context().returned.load(Ordering::SeqCst)
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        item.context().release.store(true, Ordering::SeqCst);
        for flusher in flushers {
            assert_eq!(
                flusher.join().unwrap(),
                1,
                "a flush returned before the routine"
            );
        }
    });
    item.queue(WorkQueue::Delayed, &Passive::on_host())
        .expect("the item accepts work after both flushes");
    exec.wait_idle();
    assert_eq!(item.context().returned.load(Ordering::SeqCst), 2);
    drop(item);
    {
        let _bound = exec.enter();
        assert_eq!(host_driver.unload(), Ok(()));
    }
    assert_eq!(exec.bug_check(), None);
}

/// KMDF calls (skipped under Miri, as every suite's `kmdf::` tests: the
/// function table is an extern static Miri cannot link).
mod kmdf {
    use super::*;
    use ntwork::wdf::{Enqueued, RunningWdfWorkItem, Serialization, WdfDevice, WdfWorkItemRef};
    use ntwork_host::wdf::WdfDeviceConfig;

    // ---- a KMDF item deleted under a spin lock ---------------------------------

    static WDF_DROP_IRQL: AtomicUsize = AtomicUsize::new(usize::MAX);

    struct RecordsIrql;

    impl Drop for RecordsIrql {
        fn drop(&mut self) {
            WDF_DROP_IRQL.store(ntwork_host::current_irql().into(), Ordering::SeqCst);
        }
    }

    #[work_item(wdf)]
    fn wdf_probe(_: &RecordsIrql) {}

    /// Dropping a `WdfWorkItem` is `WdfObjectDelete`, which KMDF allows at
    /// DISPATCH_LEVEL; a work item's dispose and destroy callbacks are passive
    /// (`FxWorkItem` marks them so), so the framework defers them, and the
    /// context ntwork drops in the destroy callback is dropped at PASSIVE_LEVEL.
    /// The host disposed at once, on the DPC's thread: it dropped the context at
    /// DISPATCH_LEVEL (a false stop for a context that needs PASSIVE_LEVEL to
    /// drop, such as a `Device<E>`) and waited there for a running callback (a
    /// hang if that callback takes the spin lock the deleter holds).
    #[test]
    fn a_kmdf_item_deleted_under_a_spin_lock_drops_its_context_at_passive_level() {
        let exec = Executive::manual();
        let driver = exec.load_driver("wdflock.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let device = WdfDevice::of(&handle);
        let mut irql = Passive::on_host();
        let item = wdf_probe::create(device, RecordsIrql, Serialization::None, &irql).unwrap();
        let slot = SpinLock::new(Some(item));
        slot.lock(&mut irql, |item, _| drop(item.take()));
        assert_eq!(
            WDF_DROP_IRQL.load(Ordering::SeqCst),
            usize::MAX,
            "the dispose is deferred, not run at DISPATCH_LEVEL"
        );
        exec.run_until_idle();
        assert_eq!(exec.bug_check(), None);
        assert_eq!(
            WDF_DROP_IRQL.load(Ordering::SeqCst),
            0,
            "dropped at PASSIVE_LEVEL"
        );
        assert_eq!(exec.io_work_items_outstanding(), 0);
        handle.delete();
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }

    static KEPT_DROP_IRQL: AtomicUsize = AtomicUsize::new(usize::MAX);

    struct KeptRecordsIrql;

    impl Drop for KeptRecordsIrql {
        fn drop(&mut self) {
            KEPT_DROP_IRQL.store(ntwork_host::current_irql().into(), Ordering::SeqCst);
        }
    }

    #[work_item(wdf)]
    fn wdf_kept_probe(_: &KeptRecordsIrql) {}

    /// The last reference on an item can be a `WdfWorkItemRef`'s, once the
    /// parent was removed during its borrow; dropping it under a spin lock is
    /// the framework's last release at DISPATCH_LEVEL, and KMDF defers the
    /// passive destroy callbacks (`FxObjectStateDeferedDestroy`): the context
    /// is dropped at PASSIVE_LEVEL.
    #[test]
    fn a_kept_ref_released_last_under_a_spin_lock_drops_the_context_at_passive_level() {
        let exec = Executive::manual();
        let driver = exec.load_driver("keptlock.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let device = WdfDevice::of(&handle);
        let mut irql = Passive::on_host();
        wdf_kept_probe::create(device, KeptRecordsIrql, Serialization::None, &irql)
            .unwrap()
            .keep_in_parent(&irql)
            .unwrap();
        let kept = WdfWorkItemRef::<wdf_kept_probe>::kept(device).expect("kept");
        handle.delete();
        assert_eq!(KEPT_DROP_IRQL.load(Ordering::SeqCst), usize::MAX, "lent");
        let slot = SpinLock::new(Some(kept));
        slot.lock(&mut irql, |kept, _| drop(kept.take()));
        assert_eq!(
            KEPT_DROP_IRQL.load(Ordering::SeqCst),
            usize::MAX,
            "the destroy is deferred, not run at DISPATCH_LEVEL"
        );
        exec.run_until_idle();
        assert_eq!(exec.bug_check(), None);
        assert_eq!(
            KEPT_DROP_IRQL.load(Ordering::SeqCst),
            0,
            "dropped at PASSIVE_LEVEL"
        );
        assert_eq!(exec.io_work_items_outstanding(), 0);
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }

    // ---- a callback that requeues its item, then deletes it ---------------------

    /// Counts the runs of a one-shot item and what each delete returned.
    #[derive(Default)]
    struct Requeues {
        runs: AtomicUsize,
        /// One bit per run whose delete was refused, one per run that deleted.
        refused: AtomicUsize,
        deleted: AtomicUsize,
    }

    #[work_item(wdf)]
    fn requeue_then_delete(
        state: &Arc<Requeues>,
        item: &RunningWdfWorkItem<'_, requeue_then_delete>,
    ) {
        let run = state.runs.fetch_add(1, Ordering::SeqCst);
        if run == 0 {
            assert_eq!(item.enqueue(), Enqueued::Queued);
        }
        if item.delete() {
            state.deleted.fetch_or(1 << run, Ordering::SeqCst);
        } else {
            state.refused.fetch_or(1 << run, Ordering::SeqCst);
        }
    }

    /// KMDF's delete from a callback skips its wait only on the thread of the
    /// run that started last: with an enqueue pending (or a second run
    /// started) it would wait for the very callback that called it, for
    /// ever. So a callback that requeued its item is refused the delete; the
    /// next run deletes it.
    #[test]
    fn a_callback_that_requeued_its_item_cannot_delete_it_the_next_run_does() {
        let exec = Executive::manual();
        let driver = exec.load_driver("requeue.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let device = WdfDevice::of(&handle);
        let irql = Passive::on_host();
        let state = Arc::new(Requeues::default());
        let context = Arc::clone(&state);
        let item =
            requeue_then_delete::create(device, context, Serialization::None, &irql).unwrap();
        assert_eq!(item.enqueue_and_leave(&irql), Enqueued::Queued);
        assert_eq!(exec.run_until_idle(), 2);
        assert_eq!(state.runs.load(Ordering::SeqCst), 2);
        assert_eq!(
            state.refused.load(Ordering::SeqCst),
            0b01,
            "the run that requeued"
        );
        assert_eq!(state.deleted.load(Ordering::SeqCst), 0b10, "the next run");
        assert_eq!(
            Arc::strong_count(&state),
            1,
            "the context went with the item"
        );
        assert_eq!(exec.io_work_items_outstanding(), 0);
        handle.delete();
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }

    /// Two runs of one item at once (the first requeued it, a second worker
    /// took it): neither may delete. The first, while the second runs (KMDF
    /// took the second's thread for the callback's); the second, after the
    /// first returned (KMDF then knows no callback thread). Each delete would
    /// wait for its own callback; the item goes with its parent.
    #[derive(Default)]
    struct Overlap {
        runs: AtomicUsize,
        second_started: AtomicBool,
        first_returned: AtomicBool,
    }

    impl Drop for Overlap {
        fn drop(&mut self) {
            OVERLAP_DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    static OVERLAP_DROPS: AtomicUsize = AtomicUsize::new(0);
    /// One bit per run whose delete was refused.
    static OVERLAP_REFUSED: AtomicUsize = AtomicUsize::new(0);

    #[work_item(wdf)]
    fn overlapping(state: &Overlap, item: &RunningWdfWorkItem<'_, overlapping>) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let wait = |flag: &AtomicBool, what: &str| {
            while !flag.load(Ordering::SeqCst) {
                assert!(std::time::Instant::now() < deadline, "{what}");
                std::thread::yield_now();
            }
        };
        if state.runs.fetch_add(1, Ordering::SeqCst) == 0 {
            assert_eq!(item.enqueue(), Enqueued::Queued);
            wait(&state.second_started, "the second run never started");
            if !item.delete() {
                OVERLAP_REFUSED.fetch_or(0b01, Ordering::SeqCst);
            }
            state.first_returned.store(true, Ordering::SeqCst);
        } else {
            state.second_started.store(true, Ordering::SeqCst);
            wait(&state.first_returned, "the first run never returned");
            // Past the first run's own return, whatever the scheduling.
            std::thread::sleep(std::time::Duration::from_millis(20));
            if !item.delete() {
                OVERLAP_REFUSED.fetch_or(0b10, Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn two_runs_at_once_neither_deletes_the_item() {
        let exec = Executive::new();
        let driver = exec.load_driver("overlap.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let device = WdfDevice::of(&handle);
        let irql = Passive::on_host();
        let item =
            overlapping::create(device, Overlap::default(), Serialization::None, &irql).unwrap();
        assert_eq!(item.enqueue_and_leave(&irql), Enqueued::Queued);
        exec.wait_idle();
        assert_eq!(exec.bug_check(), None);
        assert_eq!(
            OVERLAP_DROPS.load(Ordering::SeqCst),
            0,
            "not deleted by a callback"
        );
        handle.delete();
        exec.wait_idle();
        assert_eq!(
            OVERLAP_DROPS.load(Ordering::SeqCst),
            1,
            "disposed with its parent"
        );
        assert_eq!(exec.io_work_items_outstanding(), 0);
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }
}
