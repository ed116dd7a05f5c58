//! Driver unload on the host executive, as on Windows: DriverUnload runs even
//! with Io work pending (the work's reference keeps the image mapped), the
//! image is unmapped when the driver object's last reference drops, the leak
//! check (0xC4/0x62) runs then, per driver, and an Ex routine dispatched into
//! an unmapped image is 0xCE at dispatch.

use core::alloc::Layout;
use core::ffi::c_void;
use core::ptr::null_mut;

use ntwork::ffi::{self, PDEVICE_OBJECT, WORK_QUEUE_ITEM};
use ntwork_host as host;
use ntwork_host::{BugCheck, Executive, UnloadError, bugcheck};

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
fn ex_work_pending_at_unload_is_0xce_when_dispatched_into_the_unmapped_image() {
    let exec = Executive::manual();
    let driver = exec.load_driver("ex-pending");
    let mut item = Box::new(WORK_QUEUE_ITEM::new());
    // SAFETY: the boxed item outlives the (never running) executive use.
    unsafe {
        ffi::ExInitializeWorkItem(&mut *item, Some(nothing), null_mut());
        ffi::ExQueueWorkItem(&mut *item, ffi::DelayedWorkQueue);
    }
    // DriverUnload runs: Ex work keeps nothing alive, so the image goes.
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None, "not at unload time");
    assert!(!exec.is_image_mapped("ex-pending"));
    assert!(!exec.run_next(), "the routine does not run");
    let routine = nothing as *const () as usize;
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
            [routine, 8, routine, 0]
        ),
        "at dispatch, as the worker jumps into the unmapped image"
    );
}

/// What [`unloads_then_returns`] does: unloads its own driver (the image is
/// unmapped while it runs), then, if given one, releases a rundown last.
struct UnloadsWhileRunning {
    driver: core::cell::Cell<Option<host::Driver>>,
    rundown: *mut ffi::EX_RUNDOWN_REF,
}

unsafe extern "system" fn unloads_then_returns(context: *mut c_void) {
    // SAFETY: the test passes a `UnloadsWhileRunning` that outlives the run.
    let this = unsafe { &*context.cast::<UnloadsWhileRunning>() };
    let driver = this.driver.take().expect("unloaded once");
    assert_eq!(driver.unload(), Ok(()));
    if !this.rundown.is_null() {
        // SAFETY: the test acquired protection on it for this routine.
        unsafe { ffi::ExReleaseRundownProtection(this.rundown) };
    }
}

/// The image unmapped while its Ex routine runs: the routine's return lands
/// in unmapped code, 0xCE, at the return.
#[test]
fn an_ex_routine_whose_image_goes_while_it_runs_is_0xce_at_its_return() {
    let exec = Executive::manual();
    let driver = exec.load_driver("gone-while-running");
    let mut this = UnloadsWhileRunning {
        driver: core::cell::Cell::new(Some(driver)),
        rundown: null_mut(),
    };
    let mut item = Box::new(WORK_QUEUE_ITEM::new());
    let context = (&raw mut this).cast::<c_void>();
    // SAFETY: the boxed item and `this` outlive the run.
    unsafe {
        ffi::ExInitializeWorkItem(&mut *item, Some(unloads_then_returns), context);
        ffi::ExQueueWorkItem(&mut *item, ffi::DelayedWorkQueue);
    }
    assert!(exec.run_next());
    let routine = unloads_then_returns as *const () as usize;
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
            [routine, 8, routine, 0]
        )
    );
}

/// The same, but the routine's last kernel call releases a rundown: what is
/// left of it in the image is its return, which the host takes as done
/// before the unmap (ntwork's Ex trampolines end so; the residual window is
/// a few instructions, scenarios.md row 14).
#[test]
fn an_ex_routine_whose_last_call_released_its_rundown_returns_without_0xce() {
    let exec = Executive::manual();
    let driver = exec.load_driver("released-last");
    let mut rundown = Box::new(ffi::EX_RUNDOWN_REF::default());
    // SAFETY: a fresh reference of this test, acquired once for the routine.
    unsafe {
        ffi::ExInitializeRundownProtection(&mut *rundown);
        assert_eq!(ffi::ExAcquireRundownProtection(&mut *rundown), 1);
    }
    let mut this = UnloadsWhileRunning {
        driver: core::cell::Cell::new(Some(driver)),
        rundown: &mut *rundown,
    };
    let mut item = Box::new(WORK_QUEUE_ITEM::new());
    let context = (&raw mut this).cast::<c_void>();
    // SAFETY: the boxed item, `this` and the rundown outlive the run.
    unsafe {
        ffi::ExInitializeWorkItem(&mut *item, Some(unloads_then_returns), context);
        ffi::ExQueueWorkItem(&mut *item, ffi::DelayedWorkQueue);
    }
    assert!(exec.run_next());
    assert!(!exec.is_image_mapped("released-last"));
    assert_eq!(exec.bug_check(), None);
}

/// An `IO_WORKITEM_ROUTINE_EX` that records whether its image was mapped,
/// then frees its own item.
unsafe extern "system" fn free_self(_: *mut c_void, context: *mut c_void, item: ffi::PIO_WORKITEM) {
    // SAFETY: the test passes a `&Executive` that outlives the run.
    let exec = unsafe { &*context.cast::<Executive>() };
    MAPPED_DURING_RUN.with(|m| m.set(exec.is_image_mapped("io-pending")));
    // SAFETY: the routine owns its item now (IoQueueWorkItemEx contract).
    unsafe { ffi::IoFreeWorkItem(item) };
}

std::thread_local! {
    static MAPPED_DURING_RUN: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

#[test]
fn io_work_pending_at_unload_is_legal_and_keeps_the_image_until_the_routine_returns() {
    let exec = Executive::manual();
    let driver = exec.load_driver("io-pending");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    let context = (&raw const exec).cast_mut().cast();
    // SAFETY: allocated, not queued; the routine frees it.
    unsafe { ffi::IoQueueWorkItemEx(item, Some(free_self), ffi::DelayedWorkQueue, context) };
    assert_eq!(device.reference_count(), 2, "creation + the queued item");
    assert_eq!(
        driver.unload(),
        Ok(()),
        "DriverUnload runs with Io work pending"
    );
    assert!(exec.is_image_mapped("io-pending"));
    assert_eq!(
        device.reference_count(),
        1,
        "deleted, but the item holds it"
    );
    assert!(!device.is_freed());
    assert_eq!(
        exec.run_until_idle(),
        1,
        "the routine runs after DriverUnload"
    );
    assert!(MAPPED_DURING_RUN.with(core::cell::Cell::get));
    assert!(
        device.is_freed(),
        "the last reference dropped after the routine"
    );
    assert!(
        !exec.is_image_mapped("io-pending"),
        "and the image went with it"
    );
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn the_leak_check_runs_when_the_image_is_unmapped_not_at_unload() {
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    let driver = exec.load_driver("late-leak");
    let device = driver.create_device();
    let leaked = host::pool::allocate(Layout::new::<u64>());
    assert!(!leaked.is_null());
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    // SAFETY: allocated, not queued; the routine frees it.
    unsafe { ffi::IoQueueWorkItemEx(item, Some(free_only), ffi::DelayedWorkQueue, null_mut()) };
    let name = driver.name().as_ptr() as usize;
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x62, name, 0, 1]
        )
    );
}

unsafe extern "system" fn free_only(_: *mut c_void, _: *mut c_void, item: ffi::PIO_WORKITEM) {
    // SAFETY: the routine owns its item (IoQueueWorkItemEx contract).
    unsafe { ffi::IoFreeWorkItem(item) };
}

#[test]
fn pool_is_counted_per_driver() {
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    let leaky = exec.load_driver("leaky");
    let clean = exec.load_driver("clean");
    let kept = leaky.run(|| host::pool::allocate(Layout::new::<u64>()));
    let freed = clean.run(|| host::pool::allocate(Layout::new::<u64>()));
    // SAFETY: allocated above with this layout, not used after.
    unsafe { host::pool::free(freed, Layout::new::<u64>()) };
    assert!(!kept.is_null());
    assert_eq!(
        clean.unload(),
        Ok(()),
        "the other driver's block is not this one's leak"
    );
    let name = leaky.name().as_ptr() as usize;
    assert_eq!(
        leaky.unload(),
        Err(UnloadError::BugCheck(BugCheck::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x62, name, 0, 1]
        )))
    );
}

#[test]
fn a_deleted_device_lives_until_its_last_reference_drops() {
    let exec = Executive::manual();
    let driver = exec.load_driver("refs");
    let device = driver.create_device();
    let object = device.as_raw().cast::<c_void>();
    // SAFETY: a live device of the bound executive.
    assert_eq!(unsafe { ffi::ObfReferenceObject(object) }, 2);
    device.delete();
    assert!(
        !device.is_freed(),
        "referenced, so alive after IoDeleteDevice"
    );
    assert_eq!(driver.reference_count(), 2, "loaded + the device");
    // SAFETY: the reference taken above.
    assert_eq!(unsafe { ffi::ObfDereferenceObject(object) }, 0);
    assert!(device.is_freed());
    assert_eq!(
        driver.reference_count(),
        1,
        "the freed device let go of its driver"
    );
    assert_eq!(exec.bug_check(), None);
    // SAFETY: deliberately one dereference too many (the memory stays mapped).
    unsafe { ffi::ObfDereferenceObject(object) };
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::REFERENCE_BY_POINTER,
            [0, object as usize, 2, -1_isize as usize]
        ),
        "over-release: (0, object, 2, new count -1)"
    );
}

#[test]
fn unloading_with_an_io_workitem_not_freed_is_0xc4_0x62_under_verifier() {
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    let driver = exec.load_driver("leaky-io");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive; leaked on purpose.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    assert!(!item.is_null());
    let name = driver.name().as_ptr() as usize;
    assert_eq!(
        driver.unload(),
        Err(UnloadError::BugCheck(BugCheck::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x62, name, 0, 1]
        )))
    );
}

#[test]
fn unloading_with_pool_not_freed_is_0xc4_0x62_under_verifier() {
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    let driver = exec.load_driver("leaky-pool");
    let _device = driver.create_device();
    let layout = Layout::new::<[u8; 24]>();
    assert!(!host::pool::allocate(layout).is_null());
    assert!(!host::pool::allocate(layout).is_null());
    assert_eq!(exec.pool_outstanding(), 2);
    let name = driver.name().as_ptr() as usize;
    let Err(UnloadError::BugCheck(stop)) = driver.unload() else {
        panic!("the leak check stops the unload");
    };
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
fn a_freed_device_is_an_unknown_object_to_io_allocate_work_item() {
    let exec = Executive::manual();
    let driver = exec.load_driver("gone");
    let device = driver.create_device();
    assert_eq!(driver.unload(), Ok(()));
    // SAFETY: the device memory is still valid (never freed); the executive
    // only looks the pointer up.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    assert!(item.is_null());
    // Windows would use the freed object; the host says so instead.
    let stop = exec.expect_bug_check();
    assert_eq!(
        stop,
        BugCheck::new(
            bugcheck::HOST_UNKNOWN_OBJECT,
            [
                ffi::IoAllocateWorkItem as *const () as usize,
                device.as_raw() as usize,
                0,
                0
            ]
        )
    );
    assert!(stop.is_host_diagnostic());
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
    assert_eq!(driver.unload(), Err(UnloadError::BugCheck(first)));
}

/// Windows: 0xC4/0x62 is Driver Verifier's (Pool Tracking); without it a
/// driver that unloads with pool or `IO_WORKITEM`s not freed leaks them, no
/// bug check. (An Ex item still queued is 0xCE when the worker reaches the
/// unmapped image: `ex_work_pending_at_unload_is_0xce_...`.)
#[test]
fn without_verifier_a_leak_at_unload_is_no_bug_check() {
    let exec = Executive::manual();
    let driver = exec.load_driver("retail-leak");
    let device = driver.create_device();
    assert!(!host::pool::allocate(Layout::new::<u64>()).is_null());
    // SAFETY: a device of the bound executive; leaked on purpose.
    assert!(!unsafe { ffi::IoAllocateWorkItem(device.as_raw()) }.is_null());
    assert_eq!(driver.unload(), Ok(()));
    assert!(!exec.is_image_mapped("retail-leak"));
    assert_eq!(exec.bug_check(), None);
    assert_eq!(
        (exec.pool_outstanding(), exec.io_work_items_outstanding()),
        (1, 1),
        "leaked, as on Windows"
    );
}

/// Verifier counts pool blocks and `IoAllocateWorkItem` items; an item
/// embedded in a pool block (`IoInitializeWorkItem`) is part of its block.
#[test]
fn under_verifier_an_embedded_item_counts_as_its_pool_block() {
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    let driver = exec.load_driver("embedded");
    let device = driver.create_device();
    // SAFETY: no arguments.
    let size = unsafe { ffi::IoSizeofWorkItem() } as usize;
    let layout = Layout::from_size_align(size, 16).unwrap();
    let block = host::pool::allocate(layout);
    // SAFETY: IoSizeofWorkItem() bytes of pool; never uninitialized (leaked).
    unsafe { ffi::IoInitializeWorkItem(device.as_raw().cast(), block.cast()) };
    let name = driver.name().as_ptr() as usize;
    assert_eq!(
        driver.unload(),
        Err(UnloadError::BugCheck(BugCheck::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x62, name, 0, 1]
        ))),
        "one allocation: the block, not the item in it too"
    );
}

unsafe extern "system" fn other_nothing(_: *mut c_void) {}

/// Windows faults by address: an Ex routine in the image of a driver that
/// was unloaded is 0xCE when dispatched, whoever queued it and whatever else
/// is loaded.
#[test]
fn with_two_drivers_ex_work_is_attributed_to_its_routines_image() {
    let exec = Executive::manual();
    let a = exec.load_driver("a.sys");
    let b = exec.load_driver("b.sys");
    a.add_to_image(nothing as *const ());
    b.add_to_image(other_nothing as *const ());
    let mut items = Box::new([WORK_QUEUE_ITEM::new(), WORK_QUEUE_ITEM::new()]);
    // SAFETY: the boxed items outlive the executive's use of them. B's
    // routine is queued from A's code: the image decides, not the caller.
    a.run(|| unsafe {
        ffi::ExInitializeWorkItem(&mut items[0], Some(other_nothing), null_mut());
        ffi::ExQueueWorkItem(&mut items[0], ffi::DelayedWorkQueue);
        ffi::ExInitializeWorkItem(&mut items[1], Some(nothing), null_mut());
        ffi::ExQueueWorkItem(&mut items[1], ffi::DelayedWorkQueue);
    });
    assert_eq!(a.unload(), Ok(()));
    assert!(exec.run_next(), "B's routine runs: B's image is mapped");
    assert!(!exec.run_next(), "A's routine does not");
    let routine = nothing as *const () as usize;
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
            [routine, 8, routine, 0]
        )
    );
    drop(b);
}

/// With two drivers loaded the host cannot tell an undeclared routine's
/// image: it stops with a labelled diagnostic rather than guess.
#[test]
fn with_two_drivers_an_undeclared_ex_routine_is_a_host_diagnostic() {
    let exec = Executive::manual();
    let _a = exec.load_driver("a.sys");
    let _b = exec.load_driver("b.sys");
    let mut item = Box::new(WORK_QUEUE_ITEM::new());
    // SAFETY: the boxed item outlives the executive's use of it.
    unsafe {
        ffi::ExInitializeWorkItem(&mut *item, Some(nothing), null_mut());
        ffi::ExQueueWorkItem(&mut *item, ffi::DelayedWorkQueue);
    }
    let stop = exec.expect_bug_check();
    assert_eq!(
        stop,
        BugCheck::new(
            bugcheck::HOST_ROUTINE_IMAGE_UNKNOWN,
            [
                ffi::ExQueueWorkItem as *const () as usize,
                &raw const *item as usize,
                nothing as *const () as usize,
                2
            ]
        )
    );
    assert!(stop.is_host_diagnostic());
    assert_eq!(exec.pending(), 0, "not queued");
}
