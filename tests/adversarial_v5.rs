//! Safe attacker programs, round 5: KMDF items whose parent is removed while
//! the driver still holds them (an owned `WdfWorkItem`, a context lent by a
//! `WdfWorkItemRef` that was dropped), an owned item dropped inside its own
//! callback (then asked for its parent), a kept item flushed from its own
//! callback. Each of the three findings failed before its fix (the owned
//! item's own reference, the kept context borrowed from its ref, the parent
//! read from the item's slot); the others pin behaviour that held.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ntwork::irql::Passive;
use ntwork::wdf::{
    Enqueued, RunningWdfWorkItem, Serialization, WdfDevice, WdfWorkItem, WdfWorkItemRef,
};
use ntwork::work_item;
use ntwork_host::wdf::WdfDeviceConfig;
use ntwork_host::{Executive, bugcheck};

// ---- finding 1: an owned KMDF item outlives its parent's removal -----------

static OWNED_DROPPED: AtomicBool = AtomicBool::new(false);

struct OwnedWatched {
    data: Vec<u64>,
}

impl Drop for OwnedWatched {
    fn drop(&mut self) {
        OWNED_DROPPED.store(true, Ordering::SeqCst);
    }
}

#[work_item(wdf)]
fn owned_watched(context: &OwnedWatched) {
    assert_eq!(context.data.len(), 4);
}

/// Finding 1: an owned `WdfWorkItem` held "the creation reference", which
/// the framework's removal of the parent (the host's
/// `WdfDeviceHandle::delete`, during a borrow that `WdfDevice::of` allows a
/// deleted device to outlive) releases: the context was dropped and freed
/// while `item.context()` still borrowed it (ASan: heap-use-after-free, freed
/// by `WdfDeviceHandle::delete`). The item now holds a reference of its own:
/// the context stays until the item drops, enqueues report `Deleted`, and the
/// parent is the one it was created under.
#[test]
fn an_owned_wdf_item_outliving_its_parents_removal_keeps_its_context() {
    let exec = Executive::manual();
    let driver = exec.load_driver("ownedrm.sys");
    let handle = driver.create_wdf_device(WdfDeviceConfig::default());
    let device = WdfDevice::of(&handle);
    let irql = Passive::on_host();
    let item: WdfWorkItem<'_, owned_watched> = owned_watched::create(
        device,
        OwnedWatched {
            data: vec![1, 2, 3, 4],
        },
        Serialization::None,
        &irql,
    )
    .unwrap();
    let context = item.context();
    handle.delete();
    assert!(
        !OWNED_DROPPED.load(Ordering::SeqCst),
        "dropped under a borrow"
    );
    assert_eq!(context.data.iter().sum::<u64>(), 10);
    assert_eq!(item.enqueue(&irql), Enqueued::Deleted);
    item.flush(&irql); // nothing queued or running: returns
    assert_eq!(item.parent().as_raw(), handle.as_raw());
    assert_eq!(exec.run_until_idle(), 0);
    drop(item);
    assert!(OWNED_DROPPED.load(Ordering::SeqCst));
    assert_eq!(exec.bug_check(), None);
    assert_eq!(driver.unload(), Ok(()));
}

// ---- finding 2: `WdfWorkItemRef::context` outlives the ref -----------------

static KEPT2_DROPPED: AtomicBool = AtomicBool::new(false);

struct Kept2 {
    data: Vec<u64>,
}

impl Drop for Kept2 {
    fn drop(&mut self) {
        KEPT2_DROPPED.store(true, Ordering::SeqCst);
    }
}

#[work_item(wdf)]
fn kept2(context: &Kept2) {
    assert_eq!(context.data.len(), 4);
}

/// Finding 2: `WdfWorkItemRef::context` returned `&'p R::Context`, the
/// parent's borrow, though the ref's own reference keeps the context: drop
/// the ref, remove the parent, and the context was freed under a live borrow
/// (ui `wdf_kept_context_outlives_its_ref` is that program, now an error).
/// Borrowed from the ref, it lasts past the parent's removal while the ref
/// does, and goes with it.
#[test]
fn a_kept_context_lasts_as_long_as_its_ref() {
    let exec = Executive::manual();
    let driver = exec.load_driver("kept2.sys");
    let handle = driver.create_wdf_device(WdfDeviceConfig::default());
    let device = WdfDevice::of(&handle);
    let irql = Passive::on_host();
    kept2::create(
        device,
        Kept2 {
            data: vec![1, 2, 3, 4],
        },
        Serialization::None,
        &irql,
    )
    .unwrap()
    .keep_in_parent(&irql)
    .unwrap();
    let kept = WdfWorkItemRef::<kept2>::kept(device).expect("kept");
    let context: &Kept2 = kept.context();
    handle.delete();
    assert!(
        !KEPT2_DROPPED.load(Ordering::SeqCst),
        "dropped under a borrow"
    );
    assert_eq!(context.data.iter().sum::<u64>(), 10);
    drop(kept);
    assert!(KEPT2_DROPPED.load(Ordering::SeqCst));
    assert_eq!(exec.bug_check(), None);
    assert_eq!(driver.unload(), Ok(()));
}

// ---- finding 3: the owned item dropped inside its own callback --------------

mod own_callback {
    use super::*;

    static OWNED: Mutex<Option<WdfWorkItem<'static, drops_owner>>> = Mutex::new(None);
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static CONTEXT_OK: AtomicBool = AtomicBool::new(false);
    static PARENT_RAW: AtomicUsize = AtomicUsize::new(usize::MAX);

    struct Ctx(Vec<u64>);

    impl Drop for Ctx {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[work_item(wdf)]
    fn drops_owner(context: &Ctx, item: &RunningWdfWorkItem<'_, drops_owner>) {
        // The driver's own `WdfWorkItem`, dropped inside its callback:
        // `WdfObjectDelete`, which KMDF allows from the callback.
        drop(OWNED.lock().unwrap().take());
        // The context stays lent for the call (the enqueue's reference).
        CONTEXT_OK.store(
            context.0.iter().sum::<u64>() == 6 && item.context().0.len() == 3,
            Ordering::SeqCst,
        );
        // "The parent, for the callback's duration", though KMDF forgot it
        // when the item was disposed.
        let parent: &WdfDevice = item.parent();
        PARENT_RAW.store(parent.as_raw().addr(), Ordering::SeqCst);
    }

    /// The drop inside the callback is the KMDF-allowed delete; the context
    /// stays lent for the call and is dropped once. Finding 3: after that
    /// drop, `RunningWdfWorkItem::parent()` built a `&WdfDevice` from NULL
    /// (`WdfWorkItemGetParentObject` of a disposed item): "null pointer
    /// dereference occurred" in `WdfDevice::from_raw`, then SIGABRT; in
    /// release a null `&WdfDevice` passed on. The parent is now read from the
    /// item's slot: the device it was created under.
    #[test]
    fn an_owned_item_dropped_inside_its_own_callback_keeps_its_context_and_parent() {
        let exec = Executive::manual();
        let driver = exec.load_driver("dropsowner.sys");
        // A `'static` parent borrow, as a driver's global would be.
        let handle: &'static _ = Box::leak(Box::new(
            driver.create_wdf_device(WdfDeviceConfig::default()),
        ));
        let device: &'static WdfDevice = WdfDevice::of(handle);
        let irql = Passive::on_host();
        let item =
            drops_owner::create(device, Ctx(vec![1, 2, 3]), Serialization::None, &irql).unwrap();
        let _ = item.enqueue(&irql);
        *OWNED.lock().unwrap() = Some(item);
        assert_eq!(exec.run_until_idle(), 1);
        assert!(CONTEXT_OK.load(Ordering::SeqCst));
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
        assert_eq!(PARENT_RAW.load(Ordering::SeqCst), handle.as_raw().addr());
        handle.delete();
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }
}

// ---- held: a kept item flushed from its own callback -----------------------

mod flush_own {
    use super::*;

    static RUNS: AtomicUsize = AtomicUsize::new(0);

    #[work_item(wdf)]
    fn flushes_kept(
        context: &AtomicUsize,
        item: &RunningWdfWorkItem<'_, flushes_kept>,
        irql: &Passive<'_>,
    ) {
        context.fetch_add(1, Ordering::SeqCst);
        RUNS.fetch_add(1, Ordering::SeqCst);
        // `RunningWdfWorkItem` has no `flush`, but the item is reachable
        // through its parent: a flush from inside its own callback.
        if let Some(me) = WdfWorkItemRef::<flushes_kept>::kept(item.parent()) {
            me.flush(irql);
        }
    }

    /// KMDF returns at once from a flush on the callback's own thread (a
    /// break only under its verifier), so this does not hang; pinned.
    #[test]
    fn a_kept_item_flushed_from_its_own_callback_returns() {
        let exec = Executive::new();
        let driver = exec.load_driver("flushkept.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let device = WdfDevice::of(&handle);
        let irql = Passive::on_host();
        flushes_kept::create(device, AtomicUsize::new(0), Serialization::None, &irql)
            .unwrap()
            .keep_in_parent(&irql)
            .unwrap();
        let kept = WdfWorkItemRef::<flushes_kept>::kept(device).unwrap();
        let _ = kept.enqueue(&irql);
        kept.flush(&irql);
        assert_eq!(RUNS.load(Ordering::SeqCst), 1);
        assert_eq!(kept.context().load(Ordering::SeqCst), 1);
        drop(kept);
        handle.delete();
        assert_eq!(driver.unload(), Ok(()));
        assert_eq!(exec.bug_check(), None);
    }
}

// ---- held: Device<E> against its own Io work --------------------------------

mod device_io {
    use super::*;
    use ntwork::ffi::FILE_DEVICE_UNKNOWN;
    use ntwork::{Device, DeviceObject, DeviceOptions, ReusableIoWorkItem, WorkQueue};
    use ntwork_suite::driver_object;

    fn options() -> DeviceOptions<'static> {
        DeviceOptions::new(FILE_DEVICE_UNKNOWN)
    }

    static PANICKY_DROPS: AtomicUsize = AtomicUsize::new(0);

    struct Panicky(Vec<u8>);

    impl Drop for Panicky {
        fn drop(&mut self) {
            PANICKY_DROPS.fetch_add(1, Ordering::SeqCst);
            panic!("an extension whose drop panics ({} bytes)", self.0.len());
        }
    }

    /// A `Device<E>` dropped (its delete deferred to its own work item)
    /// whose extension panics in `Drop`: the panic stays in the guard and
    /// ends as the host's `HOST_RUST_PANIC` (a driver aborts on a panic);
    /// nothing is touched after it is freed (ASan). The host stops at the
    /// diagnostic, so the device and its item are left as they were.
    #[test]
    fn a_deferred_delete_whose_extension_panics_stays_in_the_guard() {
        let exec = Executive::manual();
        let host_driver = exec.load_driver("panicext.sys");
        let driver = driver_object(&host_driver);
        let irql = Passive::on_host();
        let device = Device::create(driver, Panicky(vec![1; 32]), options(), &irql).unwrap();
        let raw = device.object().as_raw();
        let host_device = host_driver.device(raw).expect("listed");
        drop(device);
        exec.run_until_idle();
        assert_eq!(PANICKY_DROPS.load(Ordering::SeqCst), 1);
        let stop = exec.bug_check();
        assert!(
            stop.is_none_or(|s| s.is_host_diagnostic()),
            "only the panic's host diagnostic: {stop:?}"
        );
        assert_eq!(stop.map(|s| s.code), Some(0x4E57_0001), "HOST_RUST_PANIC");
        assert!(host_device.is_freed() || host_device.reference_count() <= 1);
    }

    struct Port {
        hits: AtomicUsize,
        poll: Mutex<Option<ReusableIoWorkItem<port_poll>>>,
    }

    static POLL_SAW: AtomicUsize = AtomicUsize::new(0);
    static POLL_NONE: AtomicUsize = AtomicUsize::new(0);

    #[work_item(device)]
    fn port_poll(device: &DeviceObject, what: Vec<u8>, irql: &Passive<'_>) {
        assert_eq!(what.len(), 3);
        match device.extension::<Port>(irql) {
            Some(port) => {
                port.hits.fetch_add(1, Ordering::SeqCst);
                POLL_SAW.fetch_add(1, Ordering::SeqCst);
            }
            None => {
                POLL_NONE.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// The device's own reusable item, in its extension, queued, then the
    /// device deleted before the item runs: the delete drops the item while
    /// it is queued; the run finds no extension, frees the item, and the
    /// queue's reference keeps the device's memory until it returned.
    #[test]
    fn a_device_deleted_while_its_extensions_reusable_item_is_queued() {
        let exec = Executive::manual();
        let host_driver = exec.load_driver("queuedext.sys");
        let driver = driver_object(&host_driver);
        let irql = Passive::on_host();
        let device = Device::create_with(driver, options(), &irql, |object| {
            let poll = ReusableIoWorkItem::<port_poll>::new(object, &irql)
                .map_err(|_| ntwork::ffi::STATUS_INSUFFICIENT_RESOURCES)?;
            Ok::<_, ntwork::ffi::NTSTATUS>(Port {
                hits: AtomicUsize::new(0),
                poll: Mutex::new(Some(poll)),
            })
        })
        .unwrap();
        let raw = device.object().as_raw();
        let host_device = host_driver.device(raw).expect("listed");
        device
            .extension()
            .poll
            .lock()
            .unwrap()
            .as_ref()
            .unwrap()
            .queue(vec![1, 2, 3], WorkQueue::Delayed, &irql)
            .unwrap();
        device.delete(&irql);
        exec.run_until_idle();
        assert_eq!(POLL_SAW.load(Ordering::SeqCst), 0);
        assert_eq!(POLL_NONE.load(Ordering::SeqCst), 1);
        assert!(host_device.is_freed());
        assert_eq!(exec.io_work_items_outstanding(), 0);
        assert_eq!(exec.bug_check(), None);
        assert_eq!(host_driver.unload(), Ok(()));
    }

    static SELF_DELETE_NONE: AtomicBool = AtomicBool::new(false);

    struct Small(#[allow(dead_code)] u64);

    #[work_item(device)]
    fn deletes_own_device(device: &DeviceObject, owned: Device<Small>, irql: &Passive<'_>) {
        owned.delete(irql);
        // The routine's `device` stays valid (the queue's reference); its
        // extension is gone.
        SELF_DELETE_NONE.store(device.extension::<Small>(irql).is_none(), Ordering::SeqCst);
        let _ = device.as_raw();
    }

    /// An Io routine of a device given that very device's `Device<E>` as its
    /// context deletes it at once (`delete`, not the deferred drop).
    #[test]
    fn an_io_routine_deletes_its_own_device_by_delete() {
        let exec = Executive::manual();
        let host_driver = exec.load_driver("delown.sys");
        let driver = driver_object(&host_driver);
        let irql = Passive::on_host();
        let device = Device::create(driver, Small(5), options(), &irql).unwrap();
        let host_device = host_driver
            .device(device.object().as_raw())
            .expect("listed");
        let object: &DeviceObject = DeviceObject::of(&host_device);
        deletes_own_device::queue(object, device, WorkQueue::Delayed, &irql).unwrap();
        exec.run_until_idle();
        assert!(SELF_DELETE_NONE.load(Ordering::SeqCst));
        assert!(host_device.is_freed());
        assert_eq!(exec.io_work_items_outstanding(), 0);
        assert_eq!(exec.bug_check(), None);
        assert_eq!(host_driver.unload(), Ok(()));
    }
}

// ---- held: an item handed to a parent that was removed meanwhile -----------

mod keep_after_removal {
    use super::*;

    #[work_item(wdf)]
    fn late_keep(context: &[u64; 2]) {
        assert_eq!(context.len(), 2);
    }

    /// `keep_in_parent` after the parent's removal (possible only on the
    /// host, whose device handle can be deleted under a `WdfDevice::of`
    /// borrow; a driver's parent borrow outlives no delete): the framework
    /// refuses the dead parent, the host's verdict being its labelled
    /// `HOST_UNKNOWN_OBJECT` stop, and the item comes back, still owned, its
    /// context intact; its drop then releases it.
    #[test]
    fn keeping_an_item_in_a_removed_parent_hands_it_back() {
        let exec = Executive::manual();
        let driver = exec.load_driver("latekeep.sys");
        let handle = driver.create_wdf_device(WdfDeviceConfig::default());
        let device = WdfDevice::of(&handle);
        let irql = Passive::on_host();
        let item = late_keep::create(device, [1, 2], Serialization::None, &irql).unwrap();
        handle.delete();
        let error = item.keep_in_parent(&irql).expect_err("the parent is gone");
        assert_eq!(error.status(), ntwork::ffi::STATUS_INVALID_PARAMETER);
        assert_eq!(error.item.context().len(), 2);
        let stop = exec.expect_bug_check();
        assert_eq!(stop.code, bugcheck::HOST_UNKNOWN_OBJECT);
        assert_eq!(stop.parameters[1], handle.as_raw().addr());
        drop(error);
    }
}
