//! `ntwork::Device<E>`, the typed WDM device extension, on the host
//! executive: the size IoCreateDevice is given, the extension reached from a
//! borrowed `&DeviceObject` (routine and DPC), dropped exactly once at the
//! delete (with work still queued, and while a routine holds it), refused for
//! the wrong type and for extensions ntwork did not make, handed back
//! when the device cannot be created, and held across threads (the remove
//! lock: `HeldExtension`) until the work that holds it drops it.

use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use ntwork::ffi::{FILE_DEVICE_UNKNOWN, NTSTATUS, STATUS_INSUFFICIENT_RESOURCES};
use ntwork::irql::{Dispatch, Passive};
use ntwork::{
    Device, DeviceObject, DeviceOptions, DriverObject, HeldExtension, NotQueued,
    ReusableIoWorkItem, WorkQueue, work_item,
};
use ntwork_host::{Executive, FailurePlan, FaultSite};
use ntwork_suite::{Counted, Tally};

/// The extension most tests use: a counter, and a drop witness.
struct Port {
    ticks: AtomicUsize,
    witness: Counted,
}

fn port(tally: &Arc<Tally>) -> Port {
    Port {
        ticks: AtomicUsize::new(0),
        witness: Counted::new(tally, 0),
    }
}

/// Another extension type, for the type check.
struct Other {
    _ticks: AtomicUsize,
}

fn options() -> DeviceOptions<'static> {
    DeviceOptions::new(FILE_DEVICE_UNKNOWN)
}

/// Cache-line aligned state: the extension holds it at its alignment.
#[repr(align(64))]
struct Aligned {
    lines: [u8; 100],
}

#[test]
fn io_create_device_gets_room_for_the_header_and_the_extension() {
    let exec = Executive::manual();
    let driver = exec.load_driver("size.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let device = Device::create(DriverObject::of(&driver), port(&tally), options(), &irql).unwrap();
    let host = driver
        .device(device.object().as_raw())
        .expect("a device of the driver");
    let start = host.extension().addr();
    let end = start + host.extension_size();
    let value = ptr::from_ref(device.extension()).addr();
    assert!(value > start, "a header comes before the extension");
    assert!(
        value + size_of::<Port>() <= end,
        "the extension fits in the {} bytes IoCreateDevice was asked for",
        host.extension_size()
    );
    assert_eq!(host.reference_count(), 1, "the creator's reference");

    let aligned = Device::create(
        DriverObject::of(&driver),
        Aligned { lines: [7; 100] },
        options(),
        &irql,
    )
    .unwrap();
    let host_aligned = driver.device(aligned.object().as_raw()).unwrap();
    let value = ptr::from_ref(aligned.extension()).addr();
    assert_eq!(value % 64, 0, "aligned as the type asks");
    let (start, size) = (
        host_aligned.extension().addr(),
        host_aligned.extension_size(),
    );
    assert!(value > start && value + size_of::<Aligned>() <= start + size);
    assert_eq!(aligned.extension().lines, [7; 100]);

    device.delete(&irql);
    aligned.delete(&irql);
    assert!(host.is_freed() && host_aligned.is_freed());
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

/// The routine finds its state through the device it runs for.
#[work_item(device)]
fn tick(device: &DeviceObject, by: usize, irql: &Passive<'_>) {
    let port = device.extension::<Port>(irql).expect("the device's Port");
    port.ticks.fetch_add(by, Ordering::SeqCst);
}

/// The DPC: the same, at DISPATCH_LEVEL, and it queues the routine.
fn dpc(device: &DeviceObject, irql: &Dispatch<'_>) {
    let port = device.extension::<Port>(irql).expect("the device's Port");
    port.ticks.fetch_add(1, Ordering::SeqCst);
    tick::queue(device, 10, WorkQueue::Delayed, irql).unwrap();
}

#[test]
fn a_routine_and_a_dpc_reach_the_extension_through_the_device() {
    let exec = Executive::manual();
    let driver = exec.load_driver("reach.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let device = Device::create(DriverObject::of(&driver), port(&tally), options(), &irql).unwrap();
    ntwork_host::at_dispatch_level(|| dpc(device.object(), &Dispatch::on_host()));
    assert_eq!(device.extension().ticks.load(Ordering::SeqCst), 1);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(device.extension().ticks.load(Ordering::SeqCst), 11);
    device.delete(&irql);
    assert_eq!(tally.dropped(), 1);
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

#[test]
fn the_extension_is_dropped_once_by_delete_and_once_by_drop() {
    let exec = Executive::manual();
    let driver = exec.load_driver("drop.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();

    let deleted =
        Device::create(DriverObject::of(&driver), port(&tally), options(), &irql).unwrap();
    let host = driver.device(deleted.object().as_raw()).unwrap();
    deleted.delete(&irql);
    assert_eq!(tally.dropped(), 1);
    assert!(host.is_freed(), "IoDeleteDevice dropped the last reference");

    let dropped =
        Device::create(DriverObject::of(&driver), port(&tally), options(), &irql).unwrap();
    let host = driver.device(dropped.object().as_raw()).unwrap();
    drop(dropped); // the AddDevice error path: `?` after the create
    // The drop queued the delete for a system worker thread.
    assert_eq!(tally.dropped(), 1);
    assert!(!host.is_freed());
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(tally.dropped(), 2);
    assert!(host.is_freed());

    assert_eq!(
        DeviceObject::of(&host).extension::<Port>(&irql).map(|_| ()),
        None,
        "a deleted device has no extension"
    );
    assert_eq!(
        exec.bug_check(),
        None,
        "no 0x18 from a second IoDeleteDevice"
    );
    assert_eq!(driver.reference_count(), 1, "no device left");
    driver.unload().unwrap();
}

/// A routine that runs after its device was deleted: the queue kept the
/// object, not the extension.
#[work_item(device)]
fn late(device: &DeviceObject, seen: Arc<Mutex<Vec<(bool, usize)>>>, irql: &Passive<'_>) {
    let found = device.extension::<Port>(irql).is_some();
    let host = HOST.lock().unwrap();
    let references = host
        .as_ref()
        .map_or(0, ntwork_host::Device::reference_count);
    seen.lock().unwrap().push((found, references));
}

/// The reusable item the extension keeps.
#[work_item(device)]
fn drain(device: &DeviceObject, seen: Arc<Mutex<Vec<(bool, usize)>>>, irql: &Passive<'_>) {
    seen.lock()
        .unwrap()
        .push((device.extension::<Kept>(irql).is_some(), 0));
}

/// An extension with a reusable item bound to its own device.
struct Kept {
    drain: ReusableIoWorkItem<drain>,
    _witness: Counted,
}

/// The host handle `late` reads the reference count through.
static HOST: Mutex<Option<ntwork_host::Device>> = Mutex::new(None);

#[test]
fn delete_with_io_work_queued_drops_once_and_the_late_routines_find_no_extension() {
    let exec = Executive::manual();
    let driver = exec.load_driver("late.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let seen = Arc::new(Mutex::new(Vec::new()));

    let device =
        Device::<Kept>::create_with(DriverObject::of(&driver), options(), &irql, |object| {
            Ok::<_, NTSTATUS>(Kept {
                drain: ReusableIoWorkItem::new(object, &irql)?,
                _witness: Counted::new(&tally, 1),
            })
        })
        .unwrap();
    let object = device.object();
    let host = driver.device(object.as_raw()).unwrap();
    *HOST.lock().unwrap() = Some(host.clone());
    // Two one-shot items and the extension's own item, all queued.
    for _ in 0..2 {
        late::queue(object, Arc::clone(&seen), WorkQueue::Delayed, &irql).unwrap();
    }
    device
        .extension()
        .drain
        .queue(Arc::clone(&seen), WorkQueue::Delayed, &irql)
        .unwrap();
    assert_eq!(
        device
            .extension()
            .drain
            .queue(Arc::clone(&seen), WorkQueue::Delayed, &irql)
            .unwrap_err()
            .reason,
        NotQueued::AlreadyQueued
    );
    assert_eq!(exec.pending(), 3);

    // The delete does not wait for queued work: no routine holds a guard.
    device.delete(&irql);
    assert_eq!(tally.dropped(), 1, "dropped at the delete, once");
    assert!(!host.is_freed(), "the queued items keep the object");
    assert_eq!(host.reference_count(), 3);

    assert_eq!(exec.run_until_idle(), 3);
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        [(false, 0), (false, 2), (false, 3)],
        "every routine found no extension; the one-shot routines ran on a live \
         object (the queue's references: 3, then 2; `drain` records no count)"
    );
    assert_eq!(tally.dropped(), 1, "still once");
    assert!(host.is_freed(), "the last routine released the object");
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
    *HOST.lock().unwrap() = None;
    driver.unload().unwrap();
}

/// An extension whose drop records whether a routine still held it.
struct Watched {
    holding: AtomicBool,
    dropped_while_held: Arc<AtomicBool>,
    _witness: Counted,
}

/// A `Watched` counted by `tally` as `id`, and its dropped-while-held flag.
fn watched(tally: &Arc<Tally>, id: usize) -> (Watched, Arc<AtomicBool>) {
    let dropped_while_held = Arc::new(AtomicBool::new(false));
    let watched = Watched {
        holding: AtomicBool::new(false),
        dropped_while_held: Arc::clone(&dropped_while_held),
        _witness: Counted::new(tally, id),
    };
    (watched, dropped_while_held)
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.holding.load(Ordering::SeqCst) {
            self.dropped_while_held.store(true, Ordering::SeqCst);
        }
    }
}

/// Holds the extension until the test says go.
#[work_item(device)]
fn hold(
    device: &DeviceObject,
    signals: (mpsc::Sender<()>, mpsc::Receiver<()>),
    irql: &Passive<'_>,
) {
    let (entered, go) = signals;
    let watched = device.extension::<Watched>(irql).expect("not deleted yet");
    watched.holding.store(true, Ordering::SeqCst);
    entered.send(()).unwrap();
    go.recv_timeout(Duration::from_secs(10))
        .expect("the test's go");
    watched.holding.store(false, Ordering::SeqCst);
}

#[test]
fn delete_waits_for_a_routine_that_holds_the_extension() {
    let exec = Executive::new();
    let driver = exec.load_driver("hold.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let (watched, dropped_while_held) = watched(&tally, 2);
    let device = Device::create(DriverObject::of(&driver), watched, options(), &irql).unwrap();
    let (entered_tx, entered) = mpsc::channel();
    let (go, go_rx) = mpsc::channel();
    hold::queue(
        device.object(),
        (entered_tx, go_rx),
        WorkQueue::Delayed,
        &irql,
    )
    .unwrap();
    entered.recv_timeout(Duration::from_secs(10)).unwrap();

    delete_while_held(&exec, device, &tally, &go);
    assert!(!dropped_while_held.load(Ordering::SeqCst));
    driver.unload().unwrap();
}

/// Deletes `device` on another thread while a routine holds its extension
/// (a `Watched` counted by `tally`): the extension is still there after a
/// while; `go` lets the routine return, and the delete then completes.
fn delete_while_held(
    exec: &Executive,
    device: Device<Watched>,
    tally: &Tally,
    go: &mpsc::Sender<()>,
) {
    std::thread::scope(|scope| {
        let deleting = scope.spawn(|| {
            let _bound = exec.enter();
            device.delete(&Passive::on_host());
        });
        // Time for a delete that does not wait to drop the extension under
        // the routine (the assertions below hold either way for one that
        // waits).
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(tally.dropped(), 0, "the delete waits while it is held");
        go.send(()).unwrap();
        deleting.join().unwrap();
    });
    assert_eq!(tally.dropped(), 1);
    exec.wait_idle();
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn the_wrong_type_and_extensions_ntwork_did_not_make_are_none() {
    let exec = Executive::manual();
    let driver = exec.load_driver("types.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let device = Device::create(DriverObject::of(&driver), port(&tally), options(), &irql).unwrap();
    let object = device.object();
    assert!(object.extension::<Other>(&irql).is_none(), "another type");
    assert!(object.extension::<Port>(&irql).is_some(), "its own type");

    // Devices IoCreateDevice made directly: no extension, one shorter than
    // ntwork's header, a zeroed one.
    for size in [0, 8, 256] {
        let raw = driver.create_device_with_extension(size);
        assert!(
            DeviceObject::of(&raw).extension::<Port>(&irql).is_none(),
            "raw extension of {size} bytes"
        );
        raw.delete();
    }

    // A driver's extension that starts with an empty list head (Flink and
    // Blink point at the extension itself): its second word is its own
    // address, as in an ntwork header.
    let list_head = driver.create_device_with_extension(64);
    let at = list_head.extension().cast::<usize>();
    // SAFETY: 64 zeroed bytes of extension the handle keeps; nothing else
    // uses them.
    unsafe {
        at.write(at.addr());
        at.add(1).write(at.addr());
    }
    assert!(
        DeviceObject::of(&list_head)
            .extension::<Port>(&irql)
            .is_none()
    );

    // A byte-for-byte copy of an ntwork extension in a raw device: the
    // header names another address.
    let host = driver.device(object.as_raw()).unwrap();
    let copy = driver.create_device_with_extension(host.extension_size());
    // SAFETY: both extensions are `extension_size` bytes that the handles
    // keep; the copy's bytes are never used as a `Port` (never dropped).
    unsafe {
        ptr::copy_nonoverlapping(
            host.extension().cast::<u8>(),
            copy.extension().cast::<u8>(),
            host.extension_size(),
        );
    }
    assert!(DeviceObject::of(&copy).extension::<Port>(&irql).is_none());

    device.delete(&irql);
    list_head.delete();
    copy.delete();
    assert_eq!(tally.dropped(), 1);
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

#[test]
fn a_failed_create_hands_the_extension_back() {
    let exec = Executive::manual();
    let driver = exec.load_driver("fail.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let driver_object = DriverObject::of(&driver);

    exec.fail_allocations(FaultSite::IoCreateDevice, FailurePlan::Next(1));
    let error = Device::create(driver_object, port(&tally), options(), &irql).unwrap_err();
    assert_eq!(error.status(), STATUS_INSUFFICIENT_RESOURCES);
    assert_eq!(tally.dropped(), 0, "not dropped: it comes back");
    let back = error.into_inner();
    assert_eq!(back.witness.id, 0);
    drop(back);
    assert_eq!(tally.dropped(), 1);
    assert_eq!(driver.reference_count(), 1, "no device was made");

    // create_with: IoCreateDevice fails, the initializer never runs.
    exec.fail_allocations(FaultSite::IoCreateDevice, FailurePlan::Next(1));
    let mut ran = false;
    let refused = Device::<Port>::create_with(driver_object, options(), &irql, |_| {
        ran = true;
        Ok::<_, NTSTATUS>(port(&tally))
    });
    assert_eq!(refused.unwrap_err(), STATUS_INSUFFICIENT_RESOURCES);
    assert!(!ran);

    // The initializer fails: its error, and the device is deleted.
    const STATUS_DEVICE_NOT_READY: NTSTATUS = 0xC000_00A3_u32 as NTSTATUS;
    let mut made = None;
    let refused = Device::<Port>::create_with(driver_object, options(), &irql, |object| {
        assert!(
            object.extension::<Port>(&irql).is_none(),
            "no extension before the initializer returns"
        );
        made = driver.device(object.as_raw());
        Err(STATUS_DEVICE_NOT_READY)
    });
    assert_eq!(refused.unwrap_err(), STATUS_DEVICE_NOT_READY);
    assert!(made.expect("the initializer saw the device").is_freed());
    assert_eq!(driver.reference_count(), 1, "the device was deleted");

    // A name a UNICODE_STRING cannot count: refused before IoCreateDevice.
    let long = vec![u16::from(b'x'); 40_000];
    let named = DeviceOptions::new(FILE_DEVICE_UNKNOWN).name(&long);
    let error = Device::create(driver_object, port(&tally), named, &irql).unwrap_err();
    assert_eq!(error.status(), 0xC000_0106_u32 as NTSTATUS);
    drop(error.into_inner());
    assert_eq!(tally.dropped(), 2);
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

/// A device given to its object and never taken back: ntwork's DriverUnload
/// deletes nothing, so, as on Windows, the device keeps the driver object and
/// the image stays loaded, silently, with the extension never dropped. The
/// host's sign of it is the image still mapped after the unload.
#[test]
fn a_device_never_taken_back_keeps_the_image_mapped_after_unload() {
    let exec = Executive::manual();
    let driver = exec.load_driver("forgot.sys");
    // No DriverUnload of the host's (which deletes every device): the
    // driver's own, which forgets this one.
    driver.set_unload(None);
    let irql = Passive::on_host();
    DriverObject::of(&driver)
        .set_unload(|_, _| {}, &irql)
        .unwrap();
    let tally = Tally::new();
    let raw = Device::create(DriverObject::of(&driver), port(&tally), options(), &irql)
        .unwrap()
        .into_raw();
    driver
        .unload()
        .expect("DriverUnload runs: the device is not open");
    assert!(
        exec.is_image_mapped("forgot.sys"),
        "the device holds the driver object"
    );
    assert_eq!(tally.dropped(), 0, "nothing deleted the device");
    assert_eq!(exec.bug_check(), None, "legal on Windows too");
    let _ = raw;
}

#[test]
fn a_device_given_to_its_object_is_taken_back_and_deleted_once() {
    let exec = Executive::manual();
    let driver = exec.load_driver("raw.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let raw = Device::create(DriverObject::of(&driver), port(&tally), options(), &irql)
        .unwrap()
        .into_raw();
    let host = driver.device(raw).unwrap();
    let object = DeviceObject::of(&host);
    object
        .extension::<Port>(&irql)
        .unwrap()
        .ticks
        .store(5, Ordering::SeqCst);
    assert_eq!(tally.dropped(), 0, "into_raw deletes nothing");

    // IRP_MN_REMOVE_DEVICE:
    // SAFETY: `into_raw` of a `Device<Port>`, taken back once; no borrow of
    // the device made from `raw` is used after the delete (`object` comes
    // from the host handle, which keeps the memory).
    let device = unsafe { Device::<Port>::from_raw(raw) };
    assert_eq!(device.extension().ticks.load(Ordering::SeqCst), 5);
    device.delete(&irql);
    assert_eq!(tally.dropped(), 1);
    assert!(host.is_freed());
    assert!(object.extension::<Port>(&irql).is_none());
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

/// Records the IRQL its drop runs at.
struct DropLevel(Arc<AtomicUsize>);

impl Drop for DropLevel {
    fn drop(&mut self) {
        let level = usize::from(ntwork_host::current_irql());
        self.0.store(level + 1, Ordering::SeqCst);
    }
}

/// `IoDeleteDevice` and the guards' wait are PASSIVE_LEVEL, and `Drop` takes
/// no proof: the drop queues the delete, so a device dropped in a DPC is
/// deleted (and its extension dropped) on a worker, at PASSIVE_LEVEL.
#[test]
fn a_drop_at_dispatch_level_deletes_on_a_worker_at_passive_level() {
    let exec = Executive::manual();
    let driver = exec.load_driver("irql.sys");
    let irql = Passive::on_host();
    let level = Arc::new(AtomicUsize::new(0));
    let extension = DropLevel(Arc::clone(&level));
    let device = Device::create(DriverObject::of(&driver), extension, options(), &irql).unwrap();
    let host = driver.device(device.object().as_raw()).unwrap();
    ntwork_host::at_dispatch_level(|| drop(device));
    assert_eq!(exec.bug_check(), None);
    assert_eq!(
        level.load(Ordering::SeqCst),
        0,
        "nothing dropped at DISPATCH_LEVEL"
    );
    assert!(!host.is_freed(), "the queued delete references the device");
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        level.load(Ordering::SeqCst),
        1,
        "dropped at PASSIVE_LEVEL (0), once"
    );
    assert!(host.is_freed());
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

/// A drop on the thread that holds a guard does not wait for itself: the
/// worker's delete waits until the guard is dropped.
#[test]
fn a_drop_while_this_thread_holds_a_guard_deletes_once_the_guard_is_gone() {
    let exec = Executive::new();
    let driver = exec.load_driver("guarded.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let device = Device::create(DriverObject::of(&driver), port(&tally), options(), &irql).unwrap();
    let host = driver.device(device.object().as_raw()).unwrap();
    let held = DeviceObject::of(&host).extension::<Port>(&irql).unwrap();
    drop(device);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(tally.dropped(), 0, "the delete waits for the guard");
    drop(held);
    exec.wait_idle();
    assert_eq!(tally.dropped(), 1);
    assert!(host.is_freed());
    assert_eq!(exec.bug_check(), None);
}

#[test]
#[should_panic(expected = "holds an ExtensionRef of the device")]
fn a_thread_that_holds_the_extension_and_deletes_the_device_panics_instead_of_hanging() {
    let exec = Executive::manual();
    let driver = exec.load_driver("self.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let device = Device::create(DriverObject::of(&driver), port(&tally), options(), &irql).unwrap();
    let host = driver.device(device.object().as_raw()).unwrap();
    let _held = DeviceObject::of(&host).extension::<Port>(&irql).unwrap();
    device.delete(&irql);
}

/// Finishes a request at PASSIVE_LEVEL with the extension held since the
/// completion routine (the remove lock of C): waits for the test's go.
#[work_item(device)]
fn finish_request(device: &DeviceObject, request: (HeldExtension<Watched>, mpsc::Receiver<()>)) {
    let _ = device;
    let (watched, go) = request;
    watched.holding.store(true, Ordering::SeqCst);
    go.recv_timeout(Duration::from_secs(10))
        .expect("the test's go");
    watched.holding.store(false, Ordering::SeqCst);
} // the extension is released here

#[test]
fn a_held_extension_handed_to_a_routine_makes_the_delete_wait_until_it_drops() {
    let exec = Executive::new();
    let driver = exec.load_driver("held.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let (watched, dropped_while_held) = watched(&tally, 3);
    let device = Device::create(DriverObject::of(&driver), watched, options(), &irql).unwrap();
    let (go, go_rx) = mpsc::channel();
    // The completion routine, at DISPATCH_LEVEL: the guard taken there
    // travels with the request to the worker thread.
    ntwork_host::at_dispatch_level(|| {
        let dispatch = Dispatch::on_host();
        let held = device
            .object()
            .extension::<Watched>(&dispatch)
            .expect("not deleted yet")
            .into_held();
        finish_request::queue(
            device.object(),
            (held, go_rx),
            WorkQueue::Delayed,
            &dispatch,
        )
        .unwrap();
    });
    delete_while_held(&exec, device, &tally, &go);
    assert!(!dropped_while_held.load(Ordering::SeqCst));
    driver.unload().unwrap();
}
