//! The Io path of the host executive through the raw API (device references,
//! items freed or requeued by their routine, 0xE4 subcodes 2 and 3, IRQL), fault
//! injection, and the safe types over it.

use core::alloc::Layout;
use core::ffi::c_void;
use core::ptr::null_mut;
use std::cell::RefCell;

use ntwork::WorkQueue;
use ntwork::ffi::{self, PDEVICE_OBJECT, PIO_WORKITEM};
use ntwork_host as host;
use ntwork_host::{BugCheck, Device, Executive, FailurePlan, FaultSite, bugcheck};

thread_local! {
    /// (device the routine got, context, references on it while running).
    static SEEN: RefCell<Vec<(usize, usize, usize)>> = const { RefCell::new(Vec::new()) };
    static DEVICE: RefCell<Option<Device>> = const { RefCell::new(None) };
}

fn seen() -> Vec<(usize, usize, usize)> {
    SEEN.with(|seen| seen.borrow().clone())
}

fn references_now() -> usize {
    DEVICE.with(|device| {
        device
            .borrow()
            .as_ref()
            .map_or(usize::MAX, Device::reference_count)
    })
}

fn setup() -> (Executive, Device) {
    let exec = Executive::manual();
    let device = exec.load_driver("iotest").create_device();
    DEVICE.with(|d| *d.borrow_mut() = Some(device.clone()));
    (exec, device)
}

unsafe extern "system" fn io_record(device: PDEVICE_OBJECT, context: *mut c_void) {
    SEEN.with(|seen| {
        seen.borrow_mut()
            .push((device as usize, context as usize, references_now()))
    });
}

/// Records, then frees its own item.
unsafe extern "system" fn io_record_and_free(
    io_object: *mut c_void,
    context: *mut c_void,
    item: PIO_WORKITEM,
) {
    SEEN.with(|seen| {
        seen.borrow_mut()
            .push((io_object as usize, context as usize, references_now()))
    });
    // SAFETY: the item is the routine's now (dequeued), and not used afterwards.
    unsafe { ffi::IoFreeWorkItem(item) };
}

/// Requeues its own item while the context counts down, then frees it.
unsafe extern "system" fn io_countdown(
    io_object: *mut c_void,
    context: *mut c_void,
    item: PIO_WORKITEM,
) {
    SEEN.with(|seen| {
        seen.borrow_mut()
            .push((io_object as usize, context as usize, references_now()))
    });
    // SAFETY: the item the kernel passed to this routine, which it owns now;
    // requeueing a dequeued item is legal.
    unsafe {
        if context as usize > 1 {
            ffi::IoQueueWorkItemEx(
                item,
                Some(io_countdown),
                ffi::DelayedWorkQueue,
                context.wrapping_byte_sub(1),
            );
        } else {
            ffi::IoFreeWorkItem(item);
        }
    }
}

fn allocate(device: &Device) -> PIO_WORKITEM {
    // SAFETY: the device belongs to the bound executive.
    unsafe { ffi::IoAllocateWorkItem(device.as_raw()) }
}

#[test]
fn io_work_references_the_device_until_the_routine_returns() {
    let (exec, device) = setup();
    let item = allocate(&device);
    assert!(!item.is_null());
    assert_eq!(exec.io_work_items_outstanding(), 1);
    assert_eq!(device.reference_count(), 1);
    // SAFETY: the item was allocated for `device` and is not queued.
    unsafe {
        ffi::IoQueueWorkItem(
            item,
            Some(io_record),
            ffi::DelayedWorkQueue,
            core::ptr::without_provenance_mut::<c_void>(0x77),
        )
    };
    assert_eq!(device.reference_count(), 2, "referenced while queued");
    assert_eq!(exec.pending_in(WorkQueue::Delayed.as_raw()), 1);

    assert!(exec.run_next());
    assert_eq!(
        seen(),
        [(device.as_raw() as usize, 0x77, 2)],
        "routine got the device, still referenced"
    );
    assert_eq!(
        device.reference_count(),
        1,
        "dereferenced after the routine returned (the creation reference stays)"
    );
    // SAFETY: ran, so not queued.
    unsafe { ffi::IoFreeWorkItem(item) };
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn an_ex_routine_may_free_its_own_io_workitem() {
    let (exec, device) = setup();
    let item = allocate(&device);
    // SAFETY: an item of this executive's device, not queued; its routine frees it.
    unsafe {
        ffi::IoQueueWorkItemEx(
            item,
            Some(io_record_and_free),
            ffi::CriticalWorkQueue,
            core::ptr::without_provenance_mut::<c_void>(5),
        )
    };
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(seen(), [(device.as_raw() as usize, 5, 2)]);
    assert_eq!(
        (exec.io_work_items_outstanding(), device.reference_count()),
        (0, 1)
    );
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn an_ex_routine_may_requeue_its_own_io_workitem() {
    let (exec, device) = setup();
    let item = allocate(&device);
    // SAFETY: an item of this executive's device, not queued; its routine requeues it.
    unsafe {
        ffi::IoQueueWorkItemEx(
            item,
            Some(io_countdown),
            ffi::DelayedWorkQueue,
            core::ptr::without_provenance_mut::<c_void>(3),
        )
    };
    assert_eq!(exec.run_until_idle(), 3);
    let contexts: Vec<usize> = seen().iter().map(|s| s.1).collect();
    assert_eq!(contexts, [3, 2, 1]);
    assert!(
        seen().iter().all(|s| s.2 == 2),
        "one reference per queued instance"
    );
    assert_eq!(
        (exec.io_work_items_outstanding(), device.reference_count()),
        (0, 1)
    );
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn freeing_a_queued_io_workitem_is_worker_invalid_2() {
    let (exec, device) = setup();
    let item = allocate(&device);
    // SAFETY: an item of this executive's device, not queued before; the free is the misuse under test.
    unsafe {
        ffi::IoQueueWorkItem(item, Some(io_record), ffi::DelayedWorkQueue, null_mut());
        ffi::IoFreeWorkItem(item);
    }
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::WORKER_INVALID,
            // Parameter 3: the address of the item's Routine field, right
            // after the WORK_QUEUE_ITEM (0x20 on Windows 10/11 x64).
            [2, item as usize, item as usize + 4 * size_of::<usize>(), 0]
        )
    );
    assert_eq!(exec.io_work_items_outstanding(), 1, "not freed");
}

#[test]
fn queueing_a_queued_io_workitem_is_worker_invalid_1() {
    let (exec, device) = setup();
    let item = allocate(&device);
    // SAFETY: an item of this executive's device, not queued before; the second queue is the misuse under test.
    unsafe {
        ffi::IoQueueWorkItem(item, Some(io_record), ffi::DelayedWorkQueue, null_mut());
        ffi::IoQueueWorkItem(item, Some(io_record), ffi::DelayedWorkQueue, null_mut());
    }
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(bugcheck::WORKER_INVALID, [1, item as usize, 1, 0])
    );
    assert_eq!(
        device.reference_count(),
        2,
        "the second call took no reference"
    );
}

/// Windows validates neither object type in `IoAllocateWorkItem`; the host
/// cannot count references on memory it does not know, and says so.
#[test]
fn an_unknown_device_is_a_host_diagnostic() {
    let exec = Executive::manual();
    let mut not_a_device = [0u64; 8];
    let bogus = not_a_device.as_mut_ptr().cast::<ffi::DEVICE_OBJECT>();
    // SAFETY: the executive only looks the pointer up; it never dereferences it.
    let item = unsafe { ffi::IoAllocateWorkItem(bogus) };
    assert!(item.is_null());
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::HOST_UNKNOWN_OBJECT,
            [
                ffi::IoAllocateWorkItem as *const () as usize,
                bogus as usize,
                0,
                0
            ]
        )
    );
}

#[test]
fn initializing_with_an_unknown_object_is_worker_invalid_3() {
    let exec = Executive::manual();
    // SAFETY: no preconditions.
    let size = unsafe { ffi::IoSizeofWorkItem() };
    let layout = Layout::from_size_align(size as usize, 16).unwrap();
    let block = host::pool::allocate(layout);
    let bogus = core::ptr::without_provenance_mut::<c_void>(0x1000);
    // SAFETY: the block holds IoSizeofWorkItem() bytes, 16-aligned.
    unsafe { ffi::IoInitializeWorkItem(bogus, block.cast()) };
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(bugcheck::WORKER_INVALID, [3, block as usize, 0x1000, 0])
    );
    assert_eq!(exec.io_work_items_outstanding(), 0);
}

#[test]
fn embedded_io_workitems_run_on_a_device_or_a_driver_object_whose_plain_routine_gets_null() {
    let exec = Executive::manual();
    let driver = exec.load_driver("embedded");
    let device = driver.create_device();
    // SAFETY: no preconditions.
    let size = unsafe { ffi::IoSizeofWorkItem() } as usize;
    assert!(size >= size_of::<ffi::WORK_QUEUE_ITEM>());
    let layout = Layout::from_size_align(size, 16).unwrap();
    for object in [device.as_raw().cast::<c_void>(), driver.as_raw().cast()] {
        let block = host::pool::allocate(layout);
        // SAFETY: IoSizeofWorkItem() bytes, 16-aligned, uninitialized after
        // the routine ran and freed after that.
        unsafe {
            ffi::IoInitializeWorkItem(object, block.cast());
            ffi::IoQueueWorkItem(
                block.cast(),
                Some(io_record),
                ffi::DelayedWorkQueue,
                core::ptr::without_provenance_mut::<c_void>(3),
            );
        }
        assert_eq!(exec.io_work_items_outstanding(), 1);
        assert_eq!(exec.run_until_idle(), 1);
        // SAFETY: the item initialized in `block` above, which has run: not
        // queued; the block, from `host::pool`, is freed once with its layout.
        unsafe {
            ffi::IoUninitializeWorkItem(block.cast());
            host::pool::free(block, layout);
        }
        assert_eq!(exec.io_work_items_outstanding(), 0);
    }
    // A plain IO_WORKITEM_ROUTINE of a driver-object item gets NULL.
    let objects: Vec<usize> = seen().iter().map(|s| s.0).collect();
    assert_eq!(objects, [device.as_raw() as usize, 0]);
    assert_eq!((exec.bug_check(), exec.pool_outstanding()), (None, 0));
    assert_eq!(driver.unload(), Ok(()));
}

#[test]
fn allocating_above_dispatch_level_is_a_host_diagnostic() {
    let (exec, device) = setup();
    let old = host::raise_irql(ffi::HIGH_LEVEL);
    let item = allocate(&device);
    host::lower_irql(old);
    assert!(item.is_null());
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::HOST_IRQL_ABOVE_DISPATCH,
            [
                ffi::IoAllocateWorkItem as *const () as usize,
                15,
                device.as_raw() as usize,
                0
            ]
        )
    );
}

#[test]
fn allocating_and_queueing_at_dispatch_level_is_allowed() {
    let (exec, device) = setup();
    host::at_dispatch_level(|| {
        let item = allocate(&device);
        assert!(!item.is_null());
        // SAFETY: the item just allocated for this executive's device, not queued.
        unsafe {
            ffi::IoQueueWorkItemEx(
                item,
                Some(io_record_and_free),
                ffi::DelayedWorkQueue,
                null_mut(),
            )
        };
    });
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn io_allocate_fails_the_next_n_calls() {
    let (exec, device) = setup();
    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Next(2));
    let results: Vec<bool> = (0..4).map(|_| allocate(&device).is_null()).collect();
    assert_eq!(results, [true, true, false, false]);
    assert_eq!(exec.io_work_items_outstanding(), 2);
    assert_eq!(
        exec.bug_check(),
        None,
        "a failed allocation is not a bug check"
    );
}

#[test]
fn io_allocate_fails_every_nth_call() {
    let (exec, device) = setup();
    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::EveryNth(3));
    let results: Vec<bool> = (0..7).map(|_| allocate(&device).is_null()).collect();
    assert_eq!(results, [false, false, true, false, false, true, false]);
    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Never);
    assert!(!allocate(&device).is_null());
}

#[test]
fn io_allocate_fails_only_the_nth_call() {
    let (exec, device) = setup();
    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Nth(2));
    let results: Vec<bool> = (0..5).map(|_| allocate(&device).is_null()).collect();
    assert_eq!(results, [false, true, false, false, false]);
    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Nth(0));
    assert!(!allocate(&device).is_null(), "Nth(0) never fails");
}

#[test]
fn pool_fails_the_next_n_and_every_nth_calls() {
    let exec = Executive::manual();
    let layout = Layout::new::<u64>();
    let mut blocks = Vec::new();
    let mut failed = Vec::new();
    exec.fail_allocations(FaultSite::Pool, FailurePlan::Next(1));
    for plan_switch in 0..6 {
        if plan_switch == 2 {
            exec.fail_allocations(FaultSite::Pool, FailurePlan::EveryNth(2));
        }
        let block = host::pool::allocate(layout);
        failed.push(block.is_null());
        if !block.is_null() {
            blocks.push(block);
        }
    }
    assert_eq!(failed, [true, false, false, true, false, true]);
    assert_eq!(exec.pool_outstanding(), blocks.len());
    for block in blocks {
        // SAFETY: live blocks, not used again.
        unsafe { host::pool::free(block, layout) };
    }
    assert_eq!(exec.pool_outstanding(), 0);
}

#[test]
fn try_queue_under_fault_queues_nothing_and_keeps_no_reference() {
    let (exec, device) = setup();
    let item = allocate(&device);
    exec.fail_allocations(FaultSite::TryQueue, FailurePlan::Next(1));
    // SAFETY: an item of this executive's device, not queued.
    let queued = unsafe {
        ffi::IoTryQueueWorkItem(
            item,
            Some(io_record_and_free),
            ffi::DelayedWorkQueue,
            null_mut(),
        )
    };
    assert_eq!(queued, 0);
    assert_eq!((exec.pending(), device.reference_count()), (0, 1));
    // SAFETY: the same item, still not queued (the faulted try queued nothing).
    let queued = unsafe {
        ffi::IoTryQueueWorkItem(
            item,
            Some(io_record_and_free),
            ffi::DelayedWorkQueue,
            null_mut(),
        )
    };
    assert_eq!(queued, 1);
    assert_eq!(device.reference_count(), 2);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        (exec.io_work_items_outstanding(), exec.bug_check()),
        (0, None)
    );
}
