//! The kernel's checks that the first host missed or got in the wrong order:
//! the checks after a routine returns (0x01 before 0xE1, with the kernel's Io
//! trampoline as 0xE1's routine), 0xE4/2's parameters, `IoSizeofWorkItem`,
//! host diagnostics for silent no-ops, the target release, and a call from a
//! thread bound to no executive.

use core::alloc::Layout;
use core::ffi::c_void;
use core::ptr::null_mut;

use ntwork::ffi::{self, PIO_WORKITEM, WORK_QUEUE_ITEM};
use ntwork_host as host;
use ntwork_host::{BugCheck, Executive, WindowsVersion, bugcheck};

unsafe extern "system" fn stay_in_critical_region(_: *mut c_void) {
    // SAFETY: no preconditions; leaving is the routine's job, and it forgets.
    unsafe { ffi::KeEnterCriticalRegion() };
}

unsafe extern "system" fn critical_region_and_dispatch(_: *mut c_void) {
    // SAFETY: no preconditions; the routine leaves the region unbalanced on purpose.
    unsafe { ffi::KeEnterCriticalRegion() };
    host::raise_irql(ffi::DISPATCH_LEVEL);
}

fn queue_ex(item: &mut WORK_QUEUE_ITEM, routine: ffi::WORKER_THREAD_ROUTINE) {
    item.WorkerRoutine = Some(routine);
    // SAFETY: the item outlives the run.
    unsafe { ffi::ExQueueWorkItem(item, ffi::DelayedWorkQueue) };
}

#[test]
fn returning_inside_a_critical_region_is_apc_index_mismatch() {
    let exec = Executive::manual();
    let mut item = WORK_QUEUE_ITEM::new();
    queue_ex(&mut item, stay_in_critical_region);
    assert!(exec.run_next());
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::APC_INDEX_MISMATCH,
            [stay_in_critical_region as *const () as usize, 0, 0xFFFF, 1]
        ),
        "(routine, ApcStateIndex, CombinedApcDisable: KernelApcDisable -1 as a USHORT, 1)"
    );
}

unsafe extern "system" fn io_stays_in_critical_region(_: ffi::PDEVICE_OBJECT, _: *mut c_void) {
    // SAFETY: no preconditions; the missing leave is the misuse under test.
    unsafe { ffi::KeEnterCriticalRegion() };
}

/// Windows: for Io work the check after the driver's routine is
/// `IopProcessWorkItem`'s, with the driver's routine and parameter 4 = 0.
#[test]
fn an_io_routine_returning_inside_a_critical_region_is_0x01_from_the_io_dispatcher() {
    let exec = Executive::manual();
    let driver = exec.load_driver("apc.sys");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    // SAFETY: allocated and not queued.
    unsafe {
        ffi::IoQueueWorkItem(
            item,
            Some(io_stays_in_critical_region),
            ffi::DelayedWorkQueue,
            null_mut(),
        )
    };
    assert!(exec.run_next());
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::APC_INDEX_MISMATCH,
            [
                io_stays_in_critical_region as *const () as usize,
                0,
                0xFFFF,
                0
            ]
        )
    );
    assert_eq!(host::current_irql(), ffi::PASSIVE_LEVEL);
}

#[test]
fn apcs_disabled_is_checked_before_the_irql() {
    let exec = Executive::manual();
    let mut item = WORK_QUEUE_ITEM::new();
    queue_ex(&mut item, critical_region_and_dispatch);
    assert!(exec.run_next());
    assert_eq!(exec.expect_bug_check().code, bugcheck::APC_INDEX_MISMATCH);
    assert_eq!(host::current_irql(), ffi::PASSIVE_LEVEL);
}

unsafe extern "system" fn io_at_dispatch(_: ffi::PDEVICE_OBJECT, _: *mut c_void) {
    host::raise_irql(ffi::DISPATCH_LEVEL);
}

#[test]
fn an_io_routine_returning_at_dispatch_reports_the_kernels_io_trampoline() {
    let exec = Executive::manual();
    let driver = exec.load_driver("e1.sys");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    // SAFETY: allocated, not queued.
    unsafe {
        ffi::IoQueueWorkItem(
            item,
            Some(io_at_dispatch),
            ffi::DelayedWorkQueue,
            core::ptr::without_provenance_mut::<c_void>(9),
        )
    };
    assert!(exec.run_next());
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::WORKER_THREAD_RETURNED_AT_BAD_IRQL);
    assert_eq!(
        stop.parameters,
        [
            host::io_work_item_routine(),
            2,
            item as usize,
            item as usize
        ],
        "P1 the trampoline the worker called, P3 its parameter (the IO_WORKITEM), P4 the item"
    );
    assert_ne!(stop.parameters[0], io_at_dispatch as *const () as usize);
}

#[test]
fn io_sizeof_work_item_is_windows_10s_0x58() {
    // SAFETY: no preconditions.
    let size = unsafe { ffi::IoSizeofWorkItem() };
    assert_eq!(size as usize, 11 * size_of::<usize>());
    #[cfg(target_pointer_width = "64")]
    assert_eq!(size, 0x58);
}

#[test]
fn an_io_workitem_in_a_block_sized_for_vista_is_a_host_diagnostic() {
    let exec = Executive::manual();
    let driver = exec.load_driver("vista.sys");
    let device = driver.create_device();
    let layout = Layout::from_size_align(0x40, 16).unwrap();
    let block = host::pool::allocate(layout);
    // SAFETY: the misuse under test: 0x40 bytes where IoSizeofWorkItem() are
    // needed; the host checks before it writes.
    unsafe { ffi::IoInitializeWorkItem(device.as_raw().cast(), block.cast()) };
    let stop = exec.expect_bug_check();
    assert_eq!(
        stop,
        BugCheck::new(
            bugcheck::HOST_IO_WORKITEM_OVERRUN,
            [
                block as usize,
                block as usize,
                0x40,
                11 * size_of::<usize>()
            ]
        )
    );
    assert!(stop.is_host_diagnostic());
}

/// A pool block of `IoSizeofWorkItem()` bytes, initialized for `device` and
/// queued with a plain routine.
fn queued_embedded_item(device: &ntwork_host::Device) -> *mut u8 {
    // SAFETY: no preconditions.
    let size = unsafe { ffi::IoSizeofWorkItem() } as usize;
    let block = host::pool::allocate(Layout::from_size_align(size, 16).unwrap());
    // SAFETY: IoSizeofWorkItem() bytes, 16-aligned, kept for the test.
    unsafe {
        ffi::IoInitializeWorkItem(device.as_raw().cast(), block.cast());
        ffi::IoQueueWorkItem(
            block.cast(),
            Some(io_at_dispatch),
            ffi::DelayedWorkQueue,
            null_mut(),
        );
    }
    block
}

#[test]
fn uninitializing_a_queued_item_is_0xe4_2_with_the_routine_field() {
    let exec = Executive::manual();
    let driver = exec.load_driver("uninit.sys");
    let device = driver.create_device();
    let block = queued_embedded_item(&device);
    // SAFETY: the misuse under test; the host checks before it touches the item.
    unsafe { ffi::IoUninitializeWorkItem(block.cast()) };
    let item = block as usize;
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::WORKER_INVALID,
            [2, item, item + 4 * size_of::<usize>(), 0]
        )
    );
}

#[test]
fn reinitializing_a_queued_item_is_a_host_diagnostic() {
    let exec = Executive::manual();
    let driver = exec.load_driver("reinit.sys");
    let device = driver.create_device();
    let block = queued_embedded_item(&device);
    // SAFETY: the misuse under test; the host checks before it touches the item.
    unsafe { ffi::IoInitializeWorkItem(device.as_raw().cast(), block.cast()) };
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::HOST_REINITIALIZED_QUEUED_ITEM,
            [block as usize, device.as_raw() as usize, 0, 0]
        )
    );
}

unsafe extern "system" fn io_nothing(_: *mut c_void, _: *mut c_void, _: PIO_WORKITEM) {}

#[test]
fn queueing_a_freed_io_workitem_is_a_host_diagnostic() {
    let exec = Executive::manual();
    let driver = exec.load_driver("freed.sys");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive; queueing after the free is the
    // misuse (the host checks its table before touching the item).
    unsafe {
        let item = ffi::IoAllocateWorkItem(device.as_raw());
        ffi::IoFreeWorkItem(item);
        ffi::IoQueueWorkItemEx(item, Some(io_nothing), ffi::DelayedWorkQueue, null_mut());
        assert_eq!(
            exec.expect_bug_check(),
            BugCheck::new(
                bugcheck::HOST_UNKNOWN_IO_WORKITEM,
                [
                    ffi::IoQueueWorkItemEx as *const () as usize,
                    item as usize,
                    0,
                    0
                ]
            )
        );
    }
}

#[test]
fn functions_the_target_lacks_are_refused_as_its_loader_would() {
    let exec = Executive::manual();
    exec.set_target(WindowsVersion::Windows7);
    let driver = exec.load_driver("win7.sys");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    // SAFETY: allocated, not queued.
    let queued = unsafe {
        ffi::IoTryQueueWorkItem(item, Some(io_nothing), ffi::DelayedWorkQueue, null_mut())
    };
    assert_eq!(queued, 0);
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::HOST_NOT_IN_TARGET,
            [
                ffi::IoTryQueueWorkItem as *const () as usize,
                WindowsVersion::Windows7.number(),
                0,
                0
            ]
        )
    );
    let exec = Executive::manual();
    exec.set_target(WindowsVersion::Windows8);
    // SAFETY: no preconditions.
    let block = unsafe { ffi::ExAllocatePool2(ffi::POOL_FLAG_NON_PAGED, 16, 0x6b77_746e) };
    assert!(block.is_null(), "ExAllocatePool2 came with Windows 10 2004");
    assert_eq!(exec.expect_bug_check().code, bugcheck::HOST_NOT_IN_TARGET);
}

/// Runs this test binary again with only `test` selected and `NTWORK_CHILD`
/// set; returns (success, stderr).
fn run_child(test: &str) -> (bool, String) {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("NTWORK_CHILD", "1")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_call_from_a_thread_bound_to_no_executive_aborts_naming_enter() {
    if std::env::var_os("NTWORK_CHILD").is_some() {
        // The child: a thread the test spawned and forgot to bind.
        let _exec = Executive::manual();
        std::thread::spawn(|| {
            let mut item = WORK_QUEUE_ITEM::new();
            item.WorkerRoutine = Some(stay_in_critical_region);
            // SAFETY: a valid item; the call must not be dropped silently.
            unsafe { ffi::ExQueueWorkItem(&mut item, ffi::DelayedWorkQueue) };
        })
        .join()
        .unwrap();
        return;
    }
    let (success, stderr) =
        run_child("a_call_from_a_thread_bound_to_no_executive_aborts_naming_enter");
    assert!(!success, "the child must not pass: {stderr}");
    assert!(stderr.contains("bound to no live executive"), "{stderr}");
    assert!(stderr.contains("executive.enter()"), "{stderr}");
}

unsafe extern "system" fn returns_at_dispatch_level(_: *mut c_void) {
    host::raise_irql(ffi::DISPATCH_LEVEL);
}

/// A bug check the test never looked at is printed when its executive is
/// dropped, with the routine's name; one it looked at is not printed.
#[test]
fn an_unexpected_bug_check_prints_a_stop_line_naming_the_routine() {
    if let Some(mode) = std::env::var_os("NTWORK_CHILD") {
        let exec = Executive::manual();
        let mut item = WORK_QUEUE_ITEM::new();
        queue_ex(&mut item, returns_at_dispatch_level);
        assert!(exec.run_next());
        if mode == "expected" {
            assert_eq!(
                exec.expect_bug_check().code,
                bugcheck::WORKER_THREAD_RETURNED_AT_BAD_IRQL
            );
        }
        return;
    }
    let test = "an_unexpected_bug_check_prints_a_stop_line_naming_the_routine";
    let (success, stderr) = run_child(test);
    assert!(success, "{stderr}");
    assert!(
        stderr
            .contains("*** STOP (ntwork host executive): 0xE1 WORKER_THREAD_RETURNED_AT_BAD_IRQL"),
        "{stderr}"
    );
    assert!(
        stderr.contains("parameter 1: host_checks::returns_at_dispatch_level"),
        "the routine by name: {stderr}"
    );
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("NTWORK_CHILD", "expected")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stderr.contains("*** STOP"),
        "an expected stop prints nothing: {stderr}"
    );
}
