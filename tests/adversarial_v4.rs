//! Safe attacker programs, round 4: a `Device<E>` dropped where its delete
//! runs on its own work item (inside an Io routine of the device, inside an
//! extension's drop, inside the driver's unload, with the device's own
//! reusable item running, with a guard held), a create whose drop item
//! cannot be allocated; KMDF one-shot items deleted by their callback (then
//! asked for their parent, raced by the parent's removal, enqueued again,
//! kept by the parent, serialized, on an eager executive); `set_unload` and
//! `Rundown::open` from the unload code. Each asserts what would fail if the
//! attack got through (and runs under ASan in `.ci/run`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ntwork::ffi::{FILE_DEVICE_UNKNOWN, NTSTATUS, STATUS_INSUFFICIENT_RESOURCES};
use ntwork::irql::{Dispatch, Passive};
use ntwork::{
    ARef, Device, DeviceObject, DeviceOptions, DriverObject, OpenError, ReusableIoWorkItem,
    Rundown, SetUnloadError, SpinLock, WorkQueue, work_item,
};
use ntwork_host::{Executive, FailurePlan, FaultSite};
use ntwork_suite::driver_object;

fn options() -> DeviceOptions<'static> {
    DeviceOptions::new(FILE_DEVICE_UNKNOWN)
}

/// Spins until `flag` is set, failing the test after ten seconds.
fn wait_for(flag: &AtomicBool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !flag.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// An extension that counts its drops in a static of its test.
struct Witness(&'static AtomicUsize);

impl Drop for Witness {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// ---- the drop item cannot be allocated -------------------------------------

/// `Device::create` allocates the drop's `IO_WORKITEM` after
/// `IoCreateDevice`; when that allocation fails the device must go (no
/// device left holding the driver object, no item leaked) and the extension
/// come back, for both `create` and `create_with` (whose initializer must
/// not run).
#[test]
fn a_create_whose_drop_item_is_not_allocated_deletes_the_device_and_hands_the_extension_back() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let exec = Executive::manual();
    let host_driver = exec.load_driver("noitem.sys");
    let driver = driver_object(&host_driver);
    let irql = Passive::on_host();

    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Nth(1));
    let error = Device::create(driver, Witness(&DROPS), options(), &irql).unwrap_err();
    assert_eq!(error.status(), STATUS_INSUFFICIENT_RESOURCES);
    assert_eq!(DROPS.load(Ordering::SeqCst), 0, "handed back, not dropped");
    drop(error.into_inner());
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    assert_eq!(host_driver.reference_count(), 1, "the device was deleted");

    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Nth(1));
    let mut ran = false;
    let refused = Device::<Witness>::create_with(driver, options(), &irql, |_| {
        ran = true;
        Ok::<_, NTSTATUS>(Witness(&DROPS))
    });
    assert_eq!(refused.unwrap_err(), STATUS_INSUFFICIENT_RESOURCES);
    assert!(
        !ran,
        "the initializer never saw a device without its drop item"
    );
    assert_eq!(host_driver.reference_count(), 1, "the device was deleted");
    assert_eq!(exec.io_work_items_outstanding(), 0);

    // The next create gets its item and works.
    let device = Device::create(driver, Witness(&DROPS), options(), &irql).unwrap();
    drop(device);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(DROPS.load(Ordering::SeqCst), 2);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
    assert_eq!(host_driver.unload(), Ok(()));
    assert!(!exec.is_image_mapped("noitem.sys"));
}

// ---- dropped inside an Io routine of the same device -----------------------

static IN_ROUTINE_DROPS: AtomicUsize = AtomicUsize::new(0);
static IN_ROUTINE_SLOT: Mutex<Option<Device<Witness>>> = Mutex::new(None);
static IN_ROUTINE_DROPPED: AtomicBool = AtomicBool::new(false);
static IN_ROUTINE_SEEN: Mutex<Vec<bool>> = Mutex::new(Vec::new());

/// Holds a guard on its own device's extension, drops the device's owner
/// (which it takes from where AddDevice left it), and keeps using the guard
/// and the device for a while: the delete's worker must wait for the guard,
/// and the borrowed device must stay valid for the call.
#[work_item(device)]
fn drops_its_own_device(device: &DeviceObject, _: u32, irql: &Passive<'_>) {
    let guard = device.extension::<Witness>(irql).expect("not deleted yet");
    drop(IN_ROUTINE_SLOT.lock().unwrap().take());
    IN_ROUTINE_DROPPED.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(30));
    // The extension is still there while the guard is held.
    assert_eq!(
        IN_ROUTINE_DROPS.load(Ordering::SeqCst),
        0,
        "dropped under a guard"
    );
    let _ = guard.0.load(Ordering::SeqCst);
    drop(guard);
    // Once the delete began, no new guard; the object is still this call's.
    let deadline = Instant::now() + Duration::from_secs(10);
    while IN_ROUTINE_DROPS.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the delete never ran");
        std::thread::sleep(Duration::from_millis(1));
    }
    IN_ROUTINE_SEEN
        .lock()
        .unwrap()
        .push(device.extension::<Witness>(irql).is_some());
    let _ = device.as_raw();
}

/// A routine bound to a device drops the device's `Device<E>` while it holds
/// a guard on the extension: the drop only queues the delete; the worker
/// waits for the guard, drops `E` once, deletes the device, and the routine
/// (whose queue holds the object) finds no extension afterwards.
#[test]
fn a_device_dropped_inside_its_own_io_routine_waits_for_the_routines_guard() {
    let exec = Executive::new();
    let host_driver = exec.load_driver("inroutine.sys");
    let driver = driver_object(&host_driver);
    let irql = Passive::on_host();
    let device = Device::create(driver, Witness(&IN_ROUTINE_DROPS), options(), &irql).unwrap();
    let host = host_driver.device(device.object().as_raw()).unwrap();
    // The owner is where the routine takes it from before the routine can run.
    *IN_ROUTINE_SLOT.lock().unwrap() = Some(device);
    let object = DeviceObject::of(&host);
    drops_its_own_device::queue(object, 0, WorkQueue::Delayed, &irql).unwrap();
    exec.wait_idle();
    assert!(IN_ROUTINE_DROPPED.load(Ordering::SeqCst));
    assert_eq!(exec.bug_check(), None);
    assert_eq!(IN_ROUTINE_DROPS.load(Ordering::SeqCst), 1);
    assert_eq!(*IN_ROUTINE_SEEN.lock().unwrap(), [false]);
    assert!(host.is_freed());
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(host_driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}

// ---- dropped inside an extension's own drop ---------------------------------

static CHAIN_DROPS: AtomicUsize = AtomicUsize::new(0);
static CHAIN_IRQL: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// An extension that owns the next device of a chain: its drop (on the
/// delete's worker) drops that device, which queues its own delete.
struct Link {
    next: Mutex<Option<Device<Link>>>,
}

impl Drop for Link {
    fn drop(&mut self) {
        CHAIN_IRQL.lock().unwrap().push(ntwork_host::current_irql());
        CHAIN_DROPS.fetch_add(1, Ordering::SeqCst);
        drop(self.next.lock().unwrap().take());
    }
}

/// A chain of devices, each extension owning the next: dropping the head
/// deletes one device per worker run, each extension dropped once at
/// PASSIVE_LEVEL, every drop item freed by its own routine.
#[test]
fn a_device_dropped_inside_another_extensions_drop_is_deleted_on_its_own_worker() {
    let exec = Executive::manual();
    let host_driver = exec.load_driver("chain.sys");
    let driver = driver_object(&host_driver);
    let irql = Passive::on_host();
    let mut head: Option<Device<Link>> = None;
    for _ in 0..4 {
        let link = Link {
            next: Mutex::new(head.take()),
        };
        head = Some(Device::create(driver, link, options(), &irql).unwrap());
    }
    assert_eq!(exec.io_work_items_outstanding(), 4, "one drop item each");
    drop(head);
    assert_eq!(
        CHAIN_DROPS.load(Ordering::SeqCst),
        0,
        "the drop only queues"
    );
    for deleted in 1..=4 {
        assert!(exec.run_next());
        assert_eq!(CHAIN_DROPS.load(Ordering::SeqCst), deleted);
    }
    assert_eq!(exec.pending(), 0);
    assert_eq!(*CHAIN_IRQL.lock().unwrap(), [0, 0, 0, 0]);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(host_driver.reference_count(), 1, "every device went");
    assert_eq!(exec.bug_check(), None);
    assert_eq!(host_driver.unload(), Ok(()));
    assert!(!exec.is_image_mapped("chain.sys"));
}

// ---- dropped while the extension's own reusable item runs -----------------

static OWN_ITEM_DROPS: AtomicUsize = AtomicUsize::new(0);
static OWN_ITEM_STARTED: AtomicBool = AtomicBool::new(false);
static OWN_ITEM_GO: AtomicBool = AtomicBool::new(false);
static OWN_ITEM_SEEN: Mutex<Vec<(bool, Vec<u8>)>> = Mutex::new(Vec::new());

/// The extension's reusable item: holds a guard until told to go, then
/// outlives the extension (which owned its item) and still uses its context.
#[work_item(device)]
fn outlives_its_owner(device: &DeviceObject, data: Vec<u8>, irql: &Passive<'_>) {
    let guard = device
        .extension::<OwnsItsItem>(irql)
        .expect("not deleted yet");
    OWN_ITEM_STARTED.store(true, Ordering::SeqCst);
    wait_for(&OWN_ITEM_GO, "never told to go");
    assert_eq!(
        OWN_ITEM_DROPS.load(Ordering::SeqCst),
        0,
        "dropped under a guard"
    );
    drop(guard);
    let deadline = Instant::now() + Duration::from_secs(10);
    while OWN_ITEM_DROPS.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the delete never ran");
        std::thread::sleep(Duration::from_millis(1));
    }
    // The extension, and the item it owned, are gone; this run is not.
    OWN_ITEM_SEEN.lock().unwrap().push((
        device.extension::<OwnsItsItem>(irql).is_some(),
        data.clone(),
    ));
}

struct OwnsItsItem {
    item: ReusableIoWorkItem<outlives_its_owner>,
    _witness: Witness,
}

/// The device is dropped while its extension's reusable item runs (and
/// holds a guard): the delete waits for the guard, then drops the item
/// while its routine still runs (its last run frees it), then deletes the
/// device, which the running item keeps referenced.
#[test]
fn a_device_dropped_while_its_extensions_own_item_runs_frees_the_item_after_the_run() {
    let exec = Executive::new();
    let host_driver = exec.load_driver("ownitem.sys");
    let driver = driver_object(&host_driver);
    let irql = Passive::on_host();
    let device = Device::<OwnsItsItem>::create_with(driver, options(), &irql, |object| {
        Ok::<_, NTSTATUS>(OwnsItsItem {
            item: ReusableIoWorkItem::new(object, &irql)?,
            _witness: Witness(&OWN_ITEM_DROPS),
        })
    })
    .unwrap();
    let host = host_driver.device(device.object().as_raw()).unwrap();
    device
        .extension()
        .item
        .queue(vec![1, 2, 3], WorkQueue::Delayed, &irql)
        .unwrap();
    wait_for(&OWN_ITEM_STARTED, "the item never ran");
    drop(device);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(OWN_ITEM_DROPS.load(Ordering::SeqCst), 0, "the worker waits");
    OWN_ITEM_GO.store(true, Ordering::SeqCst);
    exec.wait_idle();
    assert_eq!(exec.bug_check(), None);
    assert_eq!(OWN_ITEM_DROPS.load(Ordering::SeqCst), 1);
    assert_eq!(*OWN_ITEM_SEEN.lock().unwrap(), [(false, vec![1, 2, 3])]);
    assert!(host.is_freed());
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(host_driver.unload(), Ok(()));
    assert!(!exec.is_image_mapped("ownitem.sys"));
}

// ---- dropped by the driver's unload code -----------------------------------

static AT_UNLOAD_DROPS: AtomicUsize = AtomicUsize::new(0);
static AT_UNLOAD_DEVICE: Mutex<Option<Device<Witness>>> = Mutex::new(None);
static AT_UNLOAD_OPENED: Rundown = Rundown::new();
static AT_UNLOAD_NEVER_OPENED: Rundown = Rundown::new();
static AT_UNLOAD_SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn unload_drops_its_device(driver: &DriverObject, irql: &mut Passive<'_>) {
    let mut seen = AT_UNLOAD_SEEN.lock().unwrap();
    seen.push(format!("{:?}", driver.set_unload(|_, _| {}, &*irql)));
    seen.push(format!("{:?}", AT_UNLOAD_OPENED.open(driver, &*irql)));
    seen.push(format!("{:?}", AT_UNLOAD_NEVER_OPENED.open(driver, &*irql)));
    drop(AT_UNLOAD_DEVICE.lock().unwrap().take());
}

/// The driver's unload code (run by ntwork's DriverUnload, after it waited
/// for the rundowns) drops a `Device`, and tries `set_unload` and
/// `Rundown::open` again: both are refused (nothing would wait for them any
/// more), and the drop queues the delete, whose item keeps the device and so
/// the image until it ran, after the unload returned.
#[test]
fn a_device_dropped_by_the_unload_code_is_deleted_after_it_and_keeps_the_image_until_then() {
    let exec = Executive::manual();
    let host_driver = exec.load_driver("atunload.sys");
    // No DriverUnload of the host's (which deletes every device, this one
    // under its owner): the driver's own, ntwork's.
    host_driver.set_unload(None);
    let driver = driver_object(&host_driver);
    let irql = Passive::on_host();
    driver.set_unload(unload_drops_its_device, &irql).unwrap();
    AT_UNLOAD_OPENED.open(driver, &irql).unwrap();
    let device = Device::create(driver, Witness(&AT_UNLOAD_DROPS), options(), &irql).unwrap();
    let host = host_driver.device(device.object().as_raw()).unwrap();
    *AT_UNLOAD_DEVICE.lock().unwrap() = Some(device);
    assert_eq!(host_driver.unload(), Ok(()));
    assert_eq!(
        *AT_UNLOAD_SEEN.lock().unwrap(),
        [
            format!("{:?}", Err::<(), _>(SetUnloadError::Unloading)),
            format!("{:?}", Err::<(), _>(OpenError::Unloading)),
            format!("{:?}", Err::<(), _>(OpenError::Unloading)),
        ]
    );
    assert_eq!(AT_UNLOAD_DROPS.load(Ordering::SeqCst), 0, "queued, not run");
    assert!(
        exec.is_image_mapped("atunload.sys"),
        "the queued delete keeps it"
    );
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(AT_UNLOAD_DROPS.load(Ordering::SeqCst), 1);
    assert!(host.is_freed());
    assert!(!exec.is_image_mapped("atunload.sys"));
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
}

// ---- many devices dropped under a spin lock, from several threads ---------

static MANY_DROPS: AtomicUsize = AtomicUsize::new(0);

/// Four threads each create 50 devices and drop them at DISPATCH_LEVEL (under
/// a `SpinLock`), while a fifth reaches their extensions through the
/// objects: every extension dropped once, every device and drop item gone.
#[test]
fn many_devices_dropped_at_dispatch_level_from_several_threads_are_each_deleted_once() {
    let exec = Executive::new();
    let host_driver = exec.load_driver("many.sys");
    let driver = driver_object(&host_driver);
    let lock = SpinLock::new(0_usize);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let _bound = exec.enter();
                let mut irql = Passive::on_host();
                for _ in 0..50 {
                    let device =
                        Device::create(driver, Witness(&MANY_DROPS), options(), &irql).unwrap();
                    let object = ARef::from(device.object());
                    let mut slot = Some(device);
                    lock.lock(&mut irql, |dropped, dispatch: &Dispatch<'_>| {
                        drop(slot.take());
                        *dropped += 1;
                        // After the drop, the guard is refused or still lent.
                        if let Some(guard) = object.extension::<Witness>(dispatch) {
                            let _ = guard.0.load(Ordering::Relaxed);
                        }
                    });
                    drop(object);
                }
            });
        }
    });
    exec.wait_idle();
    assert_eq!(exec.bug_check(), None);
    assert_eq!(MANY_DROPS.load(Ordering::SeqCst), 200);
    assert_eq!(lock.into_inner(), 200);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(host_driver.reference_count(), 1, "every device went");
    assert_eq!(host_driver.unload(), Ok(()));
    assert!(!exec.is_image_mapped("many.sys"));
}

/// KMDF calls (skipped under Miri, as every suite's `kmdf::` tests: the
/// function table is an extern static Miri cannot link).
mod kmdf {
    use super::*;
    use ntwork::wdf::{Enqueued, RunningWdfWorkItem, Serialization, WdfDevice, WdfWorkItemRef};
    use ntwork_host::wdf::WdfDeviceConfig;

    // ---- the parent after the callback's own delete --------------------------

    /// What the callback saw of its parent after it deleted its item.
    #[derive(Default)]
    struct AfterDelete {
        deleted: AtomicBool,
        parent: AtomicUsize,
    }

    #[work_item(wdf)]
    fn parent_after_delete(
        state: &Arc<AfterDelete>,
        item: &RunningWdfWorkItem<'_, parent_after_delete>,
    ) {
        let deleted = item.delete();
        state.deleted.store(deleted, Ordering::SeqCst);
        // `parent()` lends `&'a WdfDevice` for the whole call.
        state
            .parent
            .store(item.parent().as_raw().addr(), Ordering::SeqCst);
    }

    /// KMDF's dispose of a work item releases its parent (`FlushAndRundown`
    /// clears `m_Object`), and `WdfWorkItemGetParentObject` returns NULL
    /// from then on: a `parent()` asked after the callback's own delete made
    /// a reference from NULL.
    #[test]
    fn the_parent_is_still_lent_after_the_callbacks_own_delete() {
        let exec = Executive::manual();
        let driver = exec.load_driver("parentafter.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let device = WdfDevice::of(&handle);
        let irql = Passive::on_host();
        let state = Arc::new(AfterDelete::default());
        let item =
            parent_after_delete::create(device, Arc::clone(&state), Serialization::None, &irql)
                .unwrap();
        assert_eq!(item.enqueue_and_leave(&irql), Enqueued::Queued);
        assert_eq!(exec.run_until_idle(), 1);
        assert!(state.deleted.load(Ordering::SeqCst));
        assert_eq!(
            state.parent.load(Ordering::SeqCst),
            device.as_raw().addr(),
            "the parent the item was created under, not NULL"
        );
        assert_eq!(Arc::strong_count(&state), 1, "the item went");
        handle.delete();
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }

    // ---- the parent removed after the callback's own delete ------------------

    #[derive(Default)]
    struct Race {
        deleted: AtomicBool,
        removing: AtomicBool,
        refused: AtomicBool,
        returned: AtomicBool,
        removal_saw_return: AtomicBool,
    }

    #[work_item(wdf)]
    fn child_probe(_: &u32) {}

    #[work_item(wdf)]
    fn delete_then_use_parent(
        state: &Arc<Race>,
        item: &RunningWdfWorkItem<'_, delete_then_use_parent>,
    ) {
        let parent = item.parent();
        assert!(item.delete());
        state.deleted.store(true, Ordering::SeqCst);
        wait_for(&state.removing, "the device's removal never started");
        // The delete is made when this returns, so the item is still the
        // parent's child: the removal waits for this callback, and `parent`
        // stays what it was lent as. Creates under it are the framework's to
        // refuse once the removal has marked it.
        let irql = Passive::on_host();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match child_probe::create(parent, 0, Serialization::None, &irql) {
                Err(error) => {
                    assert_eq!(error.status(), ntwork::ffi::STATUS_DELETE_PENDING);
                    state.refused.store(true, Ordering::SeqCst);
                    break;
                }
                Ok(child) => drop(child),
            }
            assert!(
                Instant::now() < deadline,
                "the removal never marked the parent"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        state.returned.store(true, Ordering::SeqCst);
    }

    /// The callback's delete is made when the routine returns, so the item
    /// stays its parent's child for the whole call: a removal of the parent
    /// on another thread waits for the callback, and the parent the callback
    /// was lent is never freed under it (before, the delete was made at once:
    /// the removal did not wait, and the borrowed parent could be freed).
    #[test]
    fn a_parents_removal_waits_for_a_callback_that_deleted_its_item() {
        let exec = Executive::new();
        let driver = exec.load_driver("parentrace.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let irql = Passive::on_host();
        let state = Arc::new(Race::default());
        {
            let device = WdfDevice::of(&handle);
            let item = delete_then_use_parent::create(
                device,
                Arc::clone(&state),
                Serialization::None,
                &irql,
            )
            .unwrap();
            assert_eq!(item.enqueue_and_leave(&irql), Enqueued::Queued);
        }
        wait_for(&state.deleted, "the callback never deleted its item");
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let _bound = exec.enter();
                state.removing.store(true, Ordering::SeqCst);
                handle.delete();
                state
                    .removal_saw_return
                    .store(state.returned.load(Ordering::SeqCst), Ordering::SeqCst);
            });
        });
        exec.wait_idle();
        assert_eq!(exec.bug_check(), None);
        assert!(state.refused.load(Ordering::SeqCst));
        assert!(
            state.removal_saw_return.load(Ordering::SeqCst),
            "the removal returned only after the callback"
        );
        assert_eq!(
            Arc::strong_count(&state),
            1,
            "the item and its context went"
        );
        assert_eq!(exec.io_work_items_outstanding(), 0);
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }

    // ---- delete, then enqueue, from the same callback --------------------------

    #[derive(Default)]
    struct DeleteThenEnqueue {
        runs: AtomicUsize,
        enqueued: Mutex<Vec<Enqueued>>,
    }

    #[work_item(wdf)]
    fn delete_then_enqueue(
        state: &Arc<DeleteThenEnqueue>,
        item: &RunningWdfWorkItem<'_, delete_then_enqueue>,
    ) {
        state.runs.fetch_add(1, Ordering::SeqCst);
        assert!(item.delete());
        assert!(!item.delete(), "one delete");
        state.enqueued.lock().unwrap().push(item.enqueue());
        // The context is still the callback's.
        let _ = state.runs.load(Ordering::SeqCst);
    }

    /// After its callback deleted it, the item is disposed: an enqueue from
    /// the same callback is `Deleted` (no `WdfWorkItemEnqueue` of a deleted
    /// item, no second run), and the context goes after the callback.
    #[test]
    fn an_enqueue_after_the_callbacks_delete_is_deleted_and_runs_nothing() {
        let exec = Executive::manual();
        exec.set_kmdf_verifier(true);
        let driver = exec.load_driver("delenq.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let device = WdfDevice::of(&handle);
        let irql = Passive::on_host();
        let state = Arc::new(DeleteThenEnqueue::default());
        let item =
            delete_then_enqueue::create(device, Arc::clone(&state), Serialization::None, &irql)
                .unwrap();
        assert_eq!(item.enqueue_and_leave(&irql), Enqueued::Queued);
        assert_eq!(exec.run_until_idle(), 1);
        assert_eq!(state.runs.load(Ordering::SeqCst), 1);
        assert_eq!(*state.enqueued.lock().unwrap(), [Enqueued::Deleted]);
        assert_eq!(Arc::strong_count(&state), 1, "the item went");
        assert_eq!(exec.bug_check(), None, "no verifier break either");
        handle.delete();
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }

    // ---- a kept item deleted by its own callback --------------------------------

    #[derive(Default)]
    struct Kept {
        deleted: AtomicBool,
        lent_after: Mutex<Vec<Enqueued>>,
        found_after: AtomicBool,
    }

    #[work_item(wdf)]
    fn kept_deletes_itself(state: &Arc<Kept>, item: &RunningWdfWorkItem<'_, kept_deletes_itself>) {
        let lent = WdfWorkItemRef::<kept_deletes_itself>::kept(item.parent()).expect("kept");
        state.deleted.store(item.delete(), Ordering::SeqCst);
        // A ref taken before the delete still lends the item: its enqueue
        // is refused, its context readable.
        let irql = Passive::on_host();
        state.lent_after.lock().unwrap().push(lent.enqueue(&irql));
        let _ = lent.context().deleted.load(Ordering::SeqCst);
        drop(lent);
        state.found_after.store(
            WdfWorkItemRef::<kept_deletes_itself>::kept(item.parent()).is_some(),
            Ordering::SeqCst,
        );
    }

    /// `keep_in_parent` gives the item up, so its callback may delete it; the
    /// parent's space keeps a reference until the parent's cleanup. After the
    /// delete, a ref taken before it refuses enqueues, `kept` finds nothing,
    /// and the context lives until the parent's removal releases the kept
    /// reference.
    #[test]
    fn a_kept_item_deleted_by_its_callback_is_no_longer_found_and_goes_with_its_parent() {
        let exec = Executive::manual();
        let driver = exec.load_driver("keptdel.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let device = WdfDevice::of(&handle);
        let irql = Passive::on_host();
        let state = Arc::new(Kept::default());
        kept_deletes_itself::create(device, Arc::clone(&state), Serialization::None, &irql)
            .unwrap()
            .keep_in_parent(&irql)
            .unwrap();
        let lent = WdfWorkItemRef::<kept_deletes_itself>::kept(device).expect("kept");
        assert_eq!(lent.enqueue(&irql), Enqueued::Queued);
        drop(lent);
        assert_eq!(exec.run_until_idle(), 1);
        assert!(
            state.deleted.load(Ordering::SeqCst),
            "left by keep_in_parent"
        );
        assert_eq!(*state.lent_after.lock().unwrap(), [Enqueued::Deleted]);
        assert!(!state.found_after.load(Ordering::SeqCst));
        assert!(WdfWorkItemRef::<kept_deletes_itself>::kept(device).is_none());
        assert_eq!(Arc::strong_count(&state), 2, "the parent's space keeps it");
        handle.delete();
        exec.run_until_idle();
        assert_eq!(Arc::strong_count(&state), 1, "released with the parent");
        assert_eq!(exec.io_work_items_outstanding(), 0);
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }

    // ---- automatic serialization and the callback's delete ---------------------

    static SERIALIZED_INSIDE: AtomicUsize = AtomicUsize::new(0);
    static SERIALIZED_OVERLAP: AtomicBool = AtomicBool::new(false);
    static SERIALIZED_DELETED: AtomicUsize = AtomicUsize::new(0);

    #[work_item(wdf)]
    fn serialized_one_shot(_: &u32, item: &RunningWdfWorkItem<'_, serialized_one_shot>) {
        if SERIALIZED_INSIDE.fetch_add(1, Ordering::SeqCst) != 0 {
            SERIALIZED_OVERLAP.store(true, Ordering::SeqCst);
        }
        std::thread::sleep(Duration::from_millis(2));
        // The delete under the parent's lock: disposal takes no lock the
        // callback holds.
        if item.delete() {
            SERIALIZED_DELETED.fetch_add(1, Ordering::SeqCst);
        }
        SERIALIZED_INSIDE.fetch_sub(1, Ordering::SeqCst);
    }

    /// One-shot items under a passive, synchronized device with automatic
    /// serialization: each callback holds the device's lock and deletes its
    /// item inside it. No self-deadlock, no two callbacks at once, each item
    /// deleted once.
    #[test]
    fn serialized_one_shot_items_delete_themselves_under_the_parents_lock() {
        let exec = Executive::new();
        let driver = exec.load_driver("serialdel.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig {
            passive: true,
            synchronized: true,
            ..WdfDeviceConfig::default()
        });
        let device = WdfDevice::of(&handle);
        let irql = Passive::on_host();
        for n in 0..16 {
            let item =
                serialized_one_shot::create(device, n, Serialization::Automatic, &irql).unwrap();
            assert_eq!(item.enqueue_and_leave(&irql), Enqueued::Queued);
        }
        exec.wait_idle();
        assert_eq!(exec.bug_check(), None);
        assert!(!SERIALIZED_OVERLAP.load(Ordering::SeqCst));
        assert_eq!(SERIALIZED_DELETED.load(Ordering::SeqCst), 16);
        assert_eq!(exec.io_work_items_outstanding(), 0);
        handle.delete();
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }

    // ---- on an eager executive --------------------------------------------------

    static EAGER_DROPS: AtomicUsize = AtomicUsize::new(0);

    #[work_item(wdf)]
    fn eager_one_shot(_: &Witness, item: &RunningWdfWorkItem<'_, eager_one_shot>) {
        assert!(item.delete(), "given up before it was enqueued");
        assert_eq!(item.enqueue(), Enqueued::Deleted);
    }

    /// On an eager executive the callback runs, and deletes the item, inside
    /// `enqueue_and_leave`'s `WdfWorkItemEnqueue`: the item was given up
    /// first, and nothing of it is touched after the enqueue (ASan would
    /// see it); the context is gone when the call returns.
    #[test]
    fn an_eager_one_shot_item_is_deleted_inside_enqueue_and_leave() {
        let exec = Executive::eager();
        let driver = exec.load_driver("eageroneshot.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let device = WdfDevice::of(&handle);
        let irql = Passive::on_host();
        for round in 1..=3 {
            let item =
                eager_one_shot::create(device, Witness(&EAGER_DROPS), Serialization::None, &irql)
                    .unwrap();
            assert_eq!(item.enqueue_and_leave(&irql), Enqueued::Queued);
            assert_eq!(EAGER_DROPS.load(Ordering::SeqCst), round, "gone already");
        }
        assert_eq!(exec.io_work_items_outstanding(), 0);
        assert_eq!(exec.bug_check(), None);
        handle.delete();
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }

    // ---- the parent's removal begins while the callback runs, which deletes ----

    #[derive(Default)]
    struct RemovalFirst {
        started: AtomicBool,
        deleted: AtomicBool,
        status: AtomicUsize,
    }

    #[work_item(wdf)]
    fn deletes_during_removal(
        state: &Arc<RemovalFirst>,
        item: &RunningWdfWorkItem<'_, deletes_during_removal>,
    ) {
        state.started.store(true, Ordering::SeqCst);
        // Long enough for the removal on the test thread to reach this
        // item's dispose, which waits for this callback.
        std::thread::sleep(Duration::from_millis(50));
        state.deleted.store(item.delete(), Ordering::SeqCst);
        let irql = Passive::on_host();
        let status = match child_probe::create(item.parent(), 0, Serialization::None, &irql) {
            Ok(_) => 0,
            Err(error) => error.status() as u32 as usize,
        };
        state.status.store(status, Ordering::SeqCst);
    }

    /// The parent's removal disposes the item while its callback runs (the
    /// dispose waits for it); the callback deletes the item meanwhile. The
    /// delete finds it disposing and leaves it to the removal: no double
    /// dispose or release, the context dropped once, the removed parent
    /// still lent to the callback and refusing new children.
    #[test]
    fn a_callback_delete_during_its_parents_removal_is_left_to_the_removal() {
        let exec = Executive::new();
        let driver = exec.load_driver("removalfirst.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let irql = Passive::on_host();
        let state = Arc::new(RemovalFirst::default());
        {
            let device = WdfDevice::of(&handle);
            let item = deletes_during_removal::create(
                device,
                Arc::clone(&state),
                Serialization::None,
                &irql,
            )
            .unwrap();
            assert_eq!(item.enqueue_and_leave(&irql), Enqueued::Queued);
        }
        wait_for(&state.started, "the callback never ran");
        handle.delete();
        exec.wait_idle();
        assert_eq!(exec.bug_check(), None);
        assert_eq!(
            state.status.load(Ordering::SeqCst),
            ntwork::ffi::STATUS_DELETE_PENDING as u32 as usize
        );
        assert_eq!(Arc::strong_count(&state), 1, "dropped once, with the item");
        assert_eq!(exec.io_work_items_outstanding(), 0);
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }
}
