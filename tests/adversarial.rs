//! Safe programs an adversarial reviewer wrote against `Device<E>`, the IRQL
//! proofs, `SpinLock` and the host's safe handles. Each test is safe code
//! only; the ones that found a hole fail under AddressSanitizer without the
//! fix named in their doc comment. The others pin attacks that held.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ntwork::ffi::{FILE_DEVICE_UNKNOWN, NTSTATUS};
use ntwork::irql::Passive;
use ntwork::{
    ARef, Device, DeviceObject, DeviceOptions, DriverObject, SpinLock, WorkQueue, work_item,
};
use ntwork_host::{Executive, bugcheck};
use ntwork_suite::{Counted, Tally};

fn options() -> DeviceOptions<'static> {
    DeviceOptions::new(FILE_DEVICE_UNKNOWN)
}

struct Port {
    ticks: AtomicUsize,
    _witness: Counted,
}

fn port(tally: &Arc<Tally>) -> Port {
    Port {
        ticks: AtomicUsize::new(7),
        _witness: Counted::new(tally, 0),
    }
}

/// Hole (host): the host's default DriverUnload deletes every device of the
/// driver, so the object manager freed a device a live `Device<E>` still
/// held by address: its extension was a heap use after free. Fixed: the
/// host never gives a device's memory back; the second delete is 0x18.
#[test]
fn a_device_left_at_unload_stays_readable_and_its_delete_is_0x18() {
    let exec = Executive::manual();
    let driver = exec.load_driver("left.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let device = Device::create(DriverObject::of(&driver), port(&tally), options(), &irql).unwrap();
    driver.unload().unwrap();
    assert_eq!(device.extension().ticks.fetch_add(1, Ordering::SeqCst), 7);
    device.delete(&irql);
    assert_eq!(tally.dropped(), 1, "dropped once, by the delete");
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::REFERENCE_BY_POINTER, "{stop}");
}

/// Hole (host): a host handle on an ntwork device (`Driver::device`) deletes
/// it and goes; the `Device<E>` then read freed memory. Fixed as above.
#[test]
fn a_host_handle_that_deletes_an_ntwork_device_leaves_its_memory() {
    let exec = Executive::manual();
    let driver = exec.load_driver("handle.sys");
    let irql = Passive::on_host();
    let tally = Tally::new();
    let device = Device::create(DriverObject::of(&driver), port(&tally), options(), &irql).unwrap();
    let host = driver.device(device.object().as_raw()).unwrap();
    host.delete();
    drop(host);
    assert_eq!(device.extension().ticks.load(Ordering::SeqCst), 7);
    assert!(device.object().extension::<Port>(&irql).is_some());
    device.delete(&irql);
    assert_eq!(tally.dropped(), 1);
    assert_eq!(exec.expect_bug_check().code, bugcheck::REFERENCE_BY_POINTER);
}

/// Hole (host): a `Device<E>` that outlives its executive read the memory
/// the executive's drop had given back. Fixed: device memory is retired, not
/// freed. (Dropping the device then calls `IoDeleteDevice` with no
/// executive, which the host aborts on, so the test forgets it.)
#[test]
fn a_device_that_outlives_its_executive_stays_readable() {
    let irql;
    let device;
    {
        let exec = Executive::manual();
        let driver = exec.load_driver("outlives.sys");
        irql = Passive::on_host();
        device = Device::create(DriverObject::of(&driver), [7_u64; 4], options(), &irql).unwrap();
    }
    assert_eq!(*device.extension(), [7; 4]);
    std::mem::forget(device);
}

/// Hole (host): a raw extension too large for a `Layout` fell back to a
/// 16-byte block, which `IoCreateDevice` then wrote a `DEVICE_OBJECT` into
/// (a heap overflow from a safe call). Fixed: the host refuses it.
#[test]
#[should_panic(expected = "larger than the address space")]
fn a_raw_extension_larger_than_the_address_space_is_refused() {
    let exec = Executive::manual();
    let driver = exec.load_driver("huge.sys");
    let _device = driver.create_device_with_extension(isize::MAX as usize - 0x100);
}

/// Held: an extension whose drop re-enters: it looks up its own extension
/// (`None`: the delete began) and creates and deletes another device.
struct Reenter {
    me: Mutex<Option<ARef<DeviceObject>>>,
    driver: ARef<DriverObject>,
    seen: Arc<AtomicUsize>,
}

impl Drop for Reenter {
    fn drop(&mut self) {
        let irql = Passive::on_host();
        if let Some(me) = self.me.lock().unwrap().take()
            && me.extension::<Reenter>(&irql).is_some()
        {
            self.seen.fetch_add(100, Ordering::SeqCst);
        }
        let inner = Device::create(&self.driver, 5_usize, options(), &irql).unwrap();
        self.seen.fetch_add(*inner.extension(), Ordering::SeqCst);
    }
}

#[test]
fn an_extension_whose_drop_reenters_sees_no_extension_of_its_own() {
    let exec = Executive::manual();
    let driver = exec.load_driver("reenter.sys");
    let irql = Passive::on_host();
    let seen = Arc::new(AtomicUsize::new(0));
    let driver_object = DriverObject::of(&driver);
    let device = Device::create_with(driver_object, options(), &irql, |object| {
        Ok::<_, NTSTATUS>(Reenter {
            me: Mutex::new(Some(ARef::from(object))),
            driver: ARef::from(driver_object),
            seen: Arc::clone(&seen),
        })
    })
    .unwrap();
    drop(device);
    // The drop deletes on a worker; so does the inner device's drop.
    assert_eq!(seen.load(Ordering::SeqCst), 0);
    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(seen.load(Ordering::SeqCst), 5);
    assert_eq!(exec.bug_check(), None);
}

/// Held: zero-sized, page-aligned and larger-than-`USHORT` extensions.
#[repr(align(4096))]
struct Page([u8; 3]);
struct Empty;

#[test]
fn zero_sized_over_aligned_and_large_extensions() {
    let exec = Executive::manual();
    let driver = exec.load_driver("shapes.sys");
    let irql = Passive::on_host();
    let driver_object = DriverObject::of(&driver);
    let empty = Device::create(driver_object, Empty, options(), &irql).unwrap();
    assert!(empty.object().extension::<Empty>(&irql).is_some());
    let page = Device::create(driver_object, Page([1, 2, 3]), options(), &irql).unwrap();
    assert_eq!(page.object().extension::<Page>(&irql).unwrap().0, [1, 2, 3]);
    assert_eq!(std::ptr::from_ref(page.extension()).addr() % 4096, 0);
    let large = Device::create(driver_object, [3_u8; 70_000], options(), &irql).unwrap();
    assert_eq!(
        large.object().extension::<[u8; 70_000]>(&irql).unwrap()[69_999],
        3
    );
    assert!(page.object().extension::<Empty>(&irql).is_none());
    drop((empty, page, large));
    assert_eq!(exec.bug_check(), None);
}

/// Held: an initializer that keeps the device and panics: the device is
/// deleted, and the kept reference finds no extension.
#[test]
fn an_initializer_that_keeps_the_device_and_panics() {
    let exec = Executive::manual();
    let driver = exec.load_driver("init.sys");
    let irql = Passive::on_host();
    let kept = Mutex::new(None);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Device::<u64>::create_with(DriverObject::of(&driver), options(), &irql, |object| {
            *kept.lock().unwrap() = Some(ARef::from(object));
            if kept.lock().unwrap().is_some() {
                panic!("the initializer panics");
            }
            Ok::<_, NTSTATUS>(1)
        })
    }));
    assert!(result.is_err());
    let kept = kept.lock().unwrap().take().unwrap();
    assert!(kept.extension::<u64>(&irql).is_none());
    drop(kept);
    assert_eq!(exec.bug_check(), None);
}

static LOCK: SpinLock<u32> = SpinLock::new(0);

#[work_item(device)]
fn panics_under_the_lock(_device: &DeviceObject, _: u32, irql: &mut Passive<'_>) {
    LOCK.lock(irql, |value, _| {
        *value += 1;
        panic!("a routine's panic while it holds a spin lock");
    });
}

/// The review found that a forgotten `SpinLockGuard` (`mem::forget`) ended
/// the borrow of the lower proof with the IRQL still raised: a `Passive`
/// proof at DISPATCH_LEVEL, and the routine returned there (0xE1). The lock
/// is now a closure whose scope ntwork ends, so there is no guard to forget;
/// a panic inside it (host builds unwind) still releases the lock and lowers
/// the IRQL before the routine returns: the host reports the panic, not 0xE1.
#[test]
fn a_panic_under_a_spin_lock_releases_it_and_lowers_the_irql() {
    let exec = Executive::manual();
    let driver = exec.load_driver("panic.sys");
    let host = driver.create_device();
    let mut irql = Passive::on_host();
    panics_under_the_lock::queue(DeviceObject::of(&host), 0, WorkQueue::Delayed, &irql).unwrap();
    exec.run_until_idle();
    assert_eq!(exec.expect_bug_check().code, bugcheck::HOST_RUST_PANIC);
    assert_eq!(ntwork_host::current_irql(), ntwork::ffi::PASSIVE_LEVEL);
    // Released: taking it again does not spin.
    assert_eq!(LOCK.lock(&mut irql, |value, _| *value), 1);
}
