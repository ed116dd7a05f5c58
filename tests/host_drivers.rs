//! Driver unload on the host executive: pending work is 0xCE, leaked
//! allocations are 0xC4 subcode 0x62.

use core::alloc::Layout;
use core::ffi::c_void;
use core::ptr::null_mut;

use ntwork::ffi::{self, PDEVICE_OBJECT, WORK_QUEUE_ITEM};
use ntwork_host as host;
use ntwork_host::{BugCheck, Executive, bugcheck};

unsafe extern "system" fn nothing(_: *mut c_void) {}

unsafe extern "system" fn io_nothing(_: PDEVICE_OBJECT, _: *mut c_void) {}

#[test]
fn a_clean_driver_unloads() {
    let exec = Executive::manual();
    let driver = exec.load_driver("clean");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    // SAFETY: allocated, not queued; freed after it ran.
    unsafe { ffi::IoQueueWorkItem(item, Some(io_nothing), ffi::DelayedWorkQueue, null_mut()) };
    assert_eq!(exec.run_until_idle(), 1);
    // SAFETY: ran, so not queued.
    unsafe { ffi::IoFreeWorkItem(item) };
    assert_eq!(driver.name(), "clean");
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn unloading_with_ex_work_pending_is_0xce() {
    let exec = Executive::manual();
    let driver = exec.load_driver("ex-pending");
    let mut item = Box::new(WORK_QUEUE_ITEM::new());
    // SAFETY: the boxed item outlives the (never running) executive use.
    unsafe {
        ffi::ExInitializeWorkItem(&mut *item, Some(nothing), null_mut());
        ffi::ExQueueWorkItem(&mut *item, ffi::DelayedWorkQueue);
    }
    let routine = nothing as *const () as usize;
    let expected = BugCheck::new(
        bugcheck::DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
        [routine, 8, routine, 0],
    );
    assert_eq!(driver.unload(), Err(expected));
    assert_eq!(
        exec.bug_check(),
        Some(expected),
        "recorded on the executive"
    );
    assert!(!exec.run_next(), "and it stopped");
}

#[test]
fn unloading_with_io_work_pending_is_0xce() {
    let exec = Executive::manual();
    let driver = exec.load_driver("io-pending");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    // SAFETY: allocated, not queued.
    unsafe { ffi::IoQueueWorkItem(item, Some(io_nothing), ffi::DelayedWorkQueue, null_mut()) };
    assert_eq!(device.reference_count(), 1);
    let routine = io_nothing as *const () as usize;
    assert_eq!(
        driver.unload(),
        Err(BugCheck::new(
            bugcheck::DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
            [routine, 8, routine, 0]
        ))
    );
}

#[test]
fn unloading_with_an_io_workitem_not_freed_is_0xc4_0x62() {
    let exec = Executive::manual();
    let driver = exec.load_driver("leaky-io");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive; leaked on purpose.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    assert!(!item.is_null());
    let name = driver.name().as_ptr() as usize;
    assert_eq!(
        driver.unload(),
        Err(BugCheck::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x62, name, 0, 1]
        ))
    );
}

#[test]
fn unloading_with_pool_not_freed_is_0xc4_0x62() {
    let exec = Executive::manual();
    let driver = exec.load_driver("leaky-pool");
    let _device = driver.create_device();
    let layout = Layout::new::<[u8; 24]>();
    assert!(!host::pool::allocate(layout).is_null());
    assert!(!host::pool::allocate(layout).is_null());
    assert_eq!(exec.pool_outstanding(), 2);
    let name = driver.name().as_ptr() as usize;
    let stop = driver.unload().unwrap_err();
    assert_eq!(
        stop,
        BugCheck::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x62, name, 0, 2]
        )
    );
    assert_eq!(stop.subcode(), 0x62);
}

#[test]
fn devices_of_an_unloaded_driver_are_invalid_objects() {
    let exec = Executive::manual();
    let driver = exec.load_driver("gone");
    let device = driver.create_device();
    assert_eq!(driver.unload(), Ok(()));
    // SAFETY: the device memory is still valid (never freed); the executive
    // only looks the pointer up.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    assert!(item.is_null());
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::WORKER_INVALID,
            [3, 0, device.as_raw() as usize, 0]
        )
    );
}

#[test]
fn unload_on_a_bug_checked_executive_returns_that_bug_check() {
    let exec = Executive::manual();
    let driver = exec.load_driver("late");
    let first = {
        host::raise_irql(ffi::DISPATCH_LEVEL);
        host::raise_irql(ffi::PASSIVE_LEVEL); // 0xC4/0x30
        host::lower_irql(ffi::PASSIVE_LEVEL);
        exec.expect_bug_check()
    };
    assert_eq!(driver.unload(), Err(first));
}
