//! Driver and device objects as `wdm.h` lays them out, with the I/O
//! manager's rules: DriverUnload is the routine in the driver object's field
//! (none: the driver cannot unload), `IoCreateDevice` / `IoDeleteDevice`
//! with device extensions, driver-object extensions, and the object
//! manager's pointer counts (0x18 on an over-release, and on a reference
//! taken at zero).

use core::ffi::c_void;
use core::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering};

use ntwork::ffi::{self, PDEVICE_OBJECT, PDRIVER_OBJECT};
use ntwork_host::{BugCheck, Executive, UnloadError, bugcheck, delete_devices_on_unload};

#[test]
fn driver_and_device_objects_are_laid_out_as_wdm_h() {
    let exec = Executive::manual();
    let driver = exec.load_driver("layout.sys");
    let object = driver.as_raw();
    // SAFETY: the handle keeps the driver object's memory.
    let (kind, name) = unsafe { ((*object).Type, (*object).DriverName) };
    assert_eq!(kind, 4, "IO_TYPE_DRIVER");
    // SAFETY: the name's buffer is part of the driver object's memory.
    let name = unsafe { core::slice::from_raw_parts(name.Buffer, usize::from(name.Length) / 2) };
    assert_eq!(String::from_utf16_lossy(name), "\\Driver\\layout.sys");
    assert_eq!(
        driver.unload_routine().map(|f| f as usize),
        Some(delete_devices_on_unload as *const () as usize),
        "a typical WDM driver's DriverUnload: delete the devices"
    );
    let first = driver.create_device();
    let second = driver.create_device_with_extension(40);
    // SAFETY: the handles keep the objects' memory.
    unsafe {
        assert_eq!((*object).DeviceObject, second.as_raw(), "the newest first");
        assert_eq!((*second.as_raw()).NextDevice, first.as_raw());
        assert_eq!((*first.as_raw()).NextDevice, null_mut());
        assert_eq!((*second.as_raw()).Type, 3, "IO_TYPE_DEVICE");
        assert_eq!((*second.as_raw()).DriverObject, object);
        assert!(
            (*first.as_raw()).DeviceExtension.is_null(),
            "no extension asked"
        );
    }
    let extension = second.extension().cast::<u8>();
    assert_eq!(
        extension as usize,
        second.as_raw() as usize
            + if cfg!(target_pointer_width = "64") {
                0x150
            } else {
                0xB8
            },
        "the extension follows the DEVICE_OBJECT, as IoCreateDevice lays it out"
    );
    assert_eq!(extension as usize % 16, 0);
    // SAFETY: 40 bytes of extension, kept by the handle.
    let bytes = unsafe { core::slice::from_raw_parts(extension, 40) };
    assert!(bytes.iter().all(|&b| b == 0));
    assert_eq!(driver.reference_count(), 3, "loaded + one per device");
    assert_eq!(driver.unload(), Ok(()));
    assert!(
        first.is_freed() && second.is_freed(),
        "the default DriverUnload deleted them"
    );
    assert!(!exec.is_image_mapped("layout.sys"));
    assert_eq!(exec.bug_check(), None);
}

static UNLOADS: AtomicUsize = AtomicUsize::new(0);
static UNLOADED_OBJECT: AtomicUsize = AtomicUsize::new(0);

/// A DriverUnload that records its call and deletes nothing.
unsafe extern "system" fn note_unload(driver: PDRIVER_OBJECT) {
    UNLOADS.fetch_add(1, Ordering::SeqCst);
    UNLOADED_OBJECT.store(driver as usize, Ordering::SeqCst);
}

/// Windows: the I/O manager calls the routine in `DriverUnload`; devices it
/// leaves undeleted hold the driver object, so the image stays mapped (no
/// bug check) until they go.
#[test]
fn unload_calls_the_drivers_unload_routine_and_devices_it_leaves_keep_the_image() {
    let exec = Executive::manual();
    let driver = exec.load_driver("field.sys");
    let object = driver.as_raw() as usize;
    let device = driver.create_device();
    driver.set_unload(Some(note_unload));
    let before = UNLOADS.load(Ordering::SeqCst);
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(UNLOADS.load(Ordering::SeqCst), before + 1, "called once");
    assert_eq!(
        UNLOADED_OBJECT.load(Ordering::SeqCst),
        object,
        "with its driver object"
    );
    assert!(
        !device.is_freed(),
        "the host deletes no device for the driver"
    );
    assert!(
        exec.is_image_mapped("field.sys"),
        "the device keeps the image mapped"
    );
    assert_eq!(exec.bug_check(), None, "legal on Windows");
    device.delete();
    assert!(device.is_freed());
    assert!(
        !exec.is_image_mapped("field.sys"),
        "the last device's reference took it"
    );
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn a_driver_without_driver_unload_cannot_unload() {
    let exec = Executive::manual();
    let driver = exec.load_driver("forever.sys");
    driver.set_unload(None);
    assert_eq!(driver.unload(), Err(UnloadError::NoDriverUnload));
    assert!(exec.is_image_mapped("forever.sys"), "still loaded");
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn driver_unload_is_not_called_while_a_device_is_open() {
    let exec = Executive::manual();
    let driver = exec.load_driver("open.sys");
    let device = driver.create_device();
    driver.set_unload(Some(note_unload));
    // SAFETY: the handle keeps the device's memory; one open handle.
    unsafe { (*device.as_raw()).ReferenceCount = 1 };
    let before = UNLOADS.load(Ordering::SeqCst);
    assert_eq!(driver.unload(), Err(UnloadError::DevicesInUse));
    assert_eq!(UNLOADS.load(Ordering::SeqCst), before, "not called");
    assert!(exec.is_image_mapped("open.sys"));
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn io_create_device_and_io_delete_device_are_exports() {
    let exec = Executive::manual();
    let driver = exec.load_driver("exports.sys");
    let mut device: PDEVICE_OBJECT = null_mut();
    // SAFETY: the loaded driver's object; a valid out pointer.
    let status = unsafe {
        ffi::IoCreateDevice(
            driver.as_raw(),
            24,
            null_mut(),
            ffi::FILE_DEVICE_UNKNOWN,
            0,
            0,
            &mut device,
        )
    };
    assert_eq!(status, ffi::STATUS_SUCCESS);
    assert!(!device.is_null());
    // SAFETY: a live device; its 24-byte extension.
    unsafe {
        assert_eq!((*device).DeviceType, ffi::FILE_DEVICE_UNKNOWN);
        assert_eq!((*driver.as_raw()).DeviceObject, device);
        let extension = (*device).DeviceExtension.cast::<u8>();
        assert!(
            core::slice::from_raw_parts(extension, 24)
                .iter()
                .all(|&b| b == 0)
        );
        extension.write_bytes(0xAB, 24);
    }
    assert_eq!(
        driver.reference_count(),
        2,
        "the device references its driver"
    );
    // SAFETY: the device just created.
    unsafe { ffi::IoDeleteDevice(device) };
    // SAFETY: the driver object's memory is kept by `driver`.
    let head = unsafe { (*driver.as_raw()).DeviceObject };
    assert!(head.is_null(), "unlinked");
    assert_eq!(
        driver.reference_count(),
        1,
        "freed: it let go of its driver"
    );
    // The device is gone (and so its memory: no handle kept it): another
    // reference on it is 0x18 with (0, object, 0x10, new count).
    // SAFETY: only the address is used by the host, which finds it freed.
    unsafe { ffi::ObfReferenceObject(device.cast()) };
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::REFERENCE_BY_POINTER,
            [0, device as usize, 0x10, 1]
        )
    );
}

unsafe extern "system" fn io_nothing(_: PDEVICE_OBJECT, _: *mut c_void) {}

/// Windows: `IoDeleteDevice` twice dereferences twice; the over-release
/// shows when the last real holder (here the queued Io work) lets go.
#[test]
fn io_delete_device_twice_dereferences_twice() {
    let exec = Executive::manual();
    let driver = exec.load_driver("twice.sys");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    // SAFETY: allocated and not queued.
    unsafe { ffi::IoQueueWorkItem(item, Some(io_nothing), ffi::DelayedWorkQueue, null_mut()) };
    assert_eq!(device.reference_count(), 2);
    device.delete();
    assert_eq!(device.reference_count(), 1, "the queued item holds it");
    device.delete();
    assert!(
        device.is_freed(),
        "the second delete took the item's reference"
    );
    assert_eq!(exec.bug_check(), None, "not yet");
    assert!(exec.run_next());
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::REFERENCE_BY_POINTER,
            [0, device.as_raw() as usize, 2, -1_isize as usize]
        ),
        "the item's dereference goes below zero"
    );
}

static KEY_A: u8 = 0;
static KEY_B: u8 = 0;

fn key(k: &'static u8) -> *mut c_void {
    (k as *const u8).cast_mut().cast()
}

#[test]
fn driver_object_extensions_are_keyed_zeroed_and_allocated_once() {
    let exec = Executive::manual();
    let driver = exec.load_driver("ext.sys");
    let object = driver.as_raw();
    let mut first: *mut c_void = null_mut();
    // SAFETY: the loaded driver's object; valid out pointers.
    unsafe {
        let status = ffi::IoAllocateDriverObjectExtension(object, key(&KEY_A), 48, &mut first);
        assert_eq!(status, ffi::STATUS_SUCCESS);
        assert!(!first.is_null());
        assert_eq!(first as usize % 16, 0, "nonpaged pool alignment");
        assert!(
            core::slice::from_raw_parts(first.cast::<u8>(), 48)
                .iter()
                .all(|&b| b == 0)
        );
        first.cast::<u8>().write_bytes(7, 48);

        let mut again: *mut c_void = core::ptr::dangling_mut::<c_void>();
        let status = ffi::IoAllocateDriverObjectExtension(object, key(&KEY_A), 8, &mut again);
        assert_eq!(status, ffi::STATUS_OBJECT_NAME_COLLISION);
        assert!(again.is_null(), "the out pointer is cleared first");

        let mut other: *mut c_void = null_mut();
        let status = ffi::IoAllocateDriverObjectExtension(object, key(&KEY_B), 8, &mut other);
        assert_eq!(status, ffi::STATUS_SUCCESS);
        assert_ne!(other, first);

        assert_eq!(ffi::IoGetDriverObjectExtension(object, key(&KEY_A)), first);
        assert_eq!(ffi::IoGetDriverObjectExtension(object, key(&KEY_B)), other);
        assert!(ffi::IoGetDriverObjectExtension(object, null_mut()).is_null());
    }
    // Each driver object has its own.
    let second = exec.load_driver("ext2.sys");
    // SAFETY: a loaded driver's object.
    assert!(unsafe { ffi::IoGetDriverObjectExtension(second.as_raw(), key(&KEY_A)) }.is_null());
    assert_eq!(driver.unload(), Ok(()), "extensions are not leaks");
    assert_eq!(exec.bug_check(), None);
}

/// `IoAllocateDriverObjectExtension` is documented at IRQL <= DISPATCH_LEVEL
/// (it allocates nonpaged pool): a DPC may call it, and only above that
/// level is it the host's diagnostic.
#[test]
fn allocating_a_driver_object_extension_above_dispatch_level_is_a_host_diagnostic() {
    let exec = Executive::manual();
    let driver = exec.load_driver("irql.sys");
    let mut extension: *mut c_void = null_mut();
    let status = ntwork_host::at_dispatch_level(|| {
        // SAFETY: the loaded driver's object; a valid out pointer.
        unsafe {
            ffi::IoAllocateDriverObjectExtension(driver.as_raw(), key(&KEY_A), 8, &mut extension)
        }
    });
    assert_eq!(status, ffi::STATUS_SUCCESS);
    assert!(!extension.is_null());
    assert_eq!(exec.bug_check(), None);
    let old = ntwork_host::raise_irql(ffi::HIGH_LEVEL);
    // SAFETY: the loaded driver's object; a valid out pointer.
    let status = unsafe {
        ffi::IoAllocateDriverObjectExtension(driver.as_raw(), key(&KEY_B), 8, &mut extension)
    };
    ntwork_host::lower_irql(old);
    assert_eq!(status, ffi::STATUS_INSUFFICIENT_RESOURCES);
    assert!(extension.is_null());
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_IRQL_TOO_HIGH);
    assert_eq!(
        stop.parameters[1..],
        [
            usize::from(ffi::HIGH_LEVEL),
            driver.as_raw() as usize,
            usize::from(ffi::DISPATCH_LEVEL)
        ]
    );
    assert!(stop.is_host_diagnostic());
}

/// The handles keep their object's memory (not the object) while they
/// exist, so code can borrow from them without `unsafe`; no pointer count a
/// test sees changes.
#[test]
fn handles_keep_their_objects_memory_without_changing_pointer_counts() {
    use ntwork::ffi::{KeepsDeviceObject, KeepsDriverObject};
    let exec = Executive::manual();
    let driver = exec.load_driver("keeps.sys");
    let device = driver.create_device_with_extension(8);
    assert_eq!(driver.driver_object(), driver.as_raw());
    assert_eq!(device.device_object(), device.as_raw());
    assert_eq!((driver.reference_count(), device.reference_count()), (2, 1));
    let kept = device.clone();
    assert_eq!(device.reference_count(), 1, "a handle is not a reference");
    device.delete();
    assert!(kept.is_freed(), "the object manager freed it");
    // SAFETY: the handle keeps the memory of the freed device.
    let extension = unsafe { (*kept.device_object()).DeviceExtension };
    assert_eq!(
        extension,
        kept.extension(),
        "still readable through the handle"
    );
    assert_eq!(exec.bug_check(), None);
}

/// Windows writes through the NULL out pointer (a page fault); the host
/// stops with its labelled diagnostic naming the parameter.
#[test]
fn a_null_out_pointer_is_a_host_diagnostic() {
    let exec = Executive::manual();
    let driver = exec.load_driver("null.sys");
    // SAFETY: the misuse under test; the host checks before writing.
    let status = unsafe {
        ffi::IoCreateDevice(
            driver.as_raw(),
            0,
            null_mut(),
            ffi::FILE_DEVICE_UNKNOWN,
            0,
            0,
            null_mut(),
        )
    };
    assert_eq!(status, ffi::STATUS_INSUFFICIENT_RESOURCES);
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::HOST_NULL_ARGUMENT,
            [ffi::IoCreateDevice as *const () as usize, 7, 0, 0]
        )
    );
}
