//! The Ex path of the host executive through the raw API: ordering, manual
//! stepping, and each bug check `ExQueueWorkItem` and the workers raise.

use core::alloc::Layout;
use core::ffi::c_void;
use core::ptr::null_mut;
use std::cell::RefCell;

use ntwork::ffi::{self, WORK_QUEUE_ITEM};
use ntwork::{ExRoutine, WorkQueue};
use ntwork_host as host;
use ntwork_host::{BugCheck, Executive, bugcheck};

thread_local! {
    static LOG: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Records its parameter (an id) in the thread's log.
unsafe extern "system" fn record(parameter: *mut c_void) {
    LOG.with(|log| log.borrow_mut().push(parameter as usize));
}

fn log() -> Vec<usize> {
    LOG.with(|log| log.borrow().clone())
}

/// A fresh, unqueued item on the heap (its memory is the test's).
fn item(routine: ffi::WORKER_THREAD_ROUTINE, parameter: usize) -> Box<WORK_QUEUE_ITEM> {
    let mut item = Box::new(WORK_QUEUE_ITEM::new());
    // SAFETY: the item is writable and not queued.
    unsafe {
        ffi::ExInitializeWorkItem(
            &mut *item,
            Some(routine),
            core::ptr::without_provenance_mut(parameter),
        )
    };
    item
}

fn queue(item: &mut WORK_QUEUE_ITEM, queue_type: ffi::WORK_QUEUE_TYPE) {
    // SAFETY: the item outlives the executive's use of it in every test (the
    // tests run or abandon it before the item is dropped, and a bug-checked or
    // dropped manual executive never touches it again).
    unsafe { ffi::ExQueueWorkItem(item, queue_type) }
}

fn address(item: &WORK_QUEUE_ITEM) -> usize {
    item as *const WORK_QUEUE_ITEM as usize
}

#[test]
fn manual_mode_runs_nothing_until_stepped() {
    let exec = Executive::manual();
    let mut a = item(record, 1);
    let mut b = item(record, 2);
    queue(&mut a, ffi::DelayedWorkQueue);
    queue(&mut b, ffi::DelayedWorkQueue);
    assert_eq!(exec.pending(), 2);
    assert!(
        !a.List.Flink.is_null(),
        "a queued item has a non-NULL Flink"
    );
    assert_eq!(exec.items_run(), 0);
    assert!(log().is_empty());

    assert!(exec.run_next());
    assert_eq!(log(), [1]);
    assert!(a.List.Flink.is_null(), "the worker removed the item");
    assert_eq!((exec.pending(), exec.items_run()), (1, 1));
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(log(), [1, 2]);
    assert!(!exec.run_next(), "nothing left");
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn fifo_per_queue_and_oldest_first_across_queues() {
    let exec = Executive::manual();
    let mut items: Vec<_> = (1..=4).map(|id| item(record, id)).collect();
    let types = [
        ffi::DelayedWorkQueue,
        ffi::CriticalWorkQueue,
        ffi::DelayedWorkQueue,
        ffi::CriticalWorkQueue,
    ];
    for (item, queue_type) in items.iter_mut().zip(types) {
        queue(item, queue_type);
    }
    assert_eq!(exec.pending_in(WorkQueue::Delayed.as_raw()), 2);
    assert_eq!(exec.pending_in(WorkQueue::Critical.as_raw()), 2);
    assert_eq!(exec.pending_in(WorkQueue::Normal.as_raw()), 0);

    assert!(exec.run_next_in(WorkQueue::Critical.as_raw()));
    assert_eq!(log(), [2]);
    assert!(exec.run_next_in(WorkQueue::Critical.as_raw()));
    assert!(
        !exec.run_next_in(WorkQueue::Critical.as_raw()),
        "Critical is empty"
    );
    assert_eq!(log(), [2, 4]);
    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(log(), [2, 4, 1, 3], "each queue is FIFO");
}

/// Windows 8+: one priority queue; the highest thread priority first, FIFO
/// within a priority, shared by queue types of equal priority (Background and
/// custom priority 7 both run at 7).
#[test]
fn run_next_takes_the_highest_priority_first_and_equal_priorities_share_one_fifo() {
    let exec = Executive::manual();
    let mut items: Vec<_> = (1..=5).map(|id| item(record, id)).collect();
    let types = [
        ffi::BackgroundWorkQueue,
        ffi::CriticalWorkQueue,
        ffi::CustomPriorityWorkQueue + 7,
        ffi::BackgroundWorkQueue,
        ffi::HyperCriticalWorkQueue,
    ];
    for (item, queue_type) in items.iter_mut().zip(types) {
        queue(item, queue_type);
    }
    assert_eq!(exec.run_until_idle(), 5);
    // HyperCritical 15, Critical 13, then 7: Background, custom 7, Background.
    assert_eq!(log(), [5, 2, 1, 3, 4]);
}

#[test]
fn custom_priority_queues_32_to_63_are_accepted() {
    let exec = Executive::manual();
    let mut items: Vec<_> = (32..=63).map(|id| item(record, id)).collect();
    for item in &mut items {
        let queue_type = item.Parameter as usize as ffi::WORK_QUEUE_TYPE;
        queue(item, queue_type);
    }
    assert_eq!(exec.bug_check(), None);
    assert_eq!(exec.pending(), 32);
    assert_eq!(
        exec.pending_in(WorkQueue::custom_priority(0).unwrap().as_raw()),
        1
    );
    assert_eq!(
        exec.pending_in(WorkQueue::custom_priority(31).unwrap().as_raw()),
        1
    );
    assert_eq!(exec.pending_in(WorkQueue::Delayed.as_raw()), 0);
    assert!(exec.run_next_in(WorkQueue::custom_priority(31).unwrap().as_raw()));
    assert_eq!(log(), [63]);
}

#[test]
fn queueing_an_item_twice_is_worker_invalid_1() {
    let exec = Executive::manual();
    let mut a = item(record, 1);
    queue(&mut a, ffi::NormalWorkQueue);
    queue(&mut a, ffi::NormalWorkQueue);
    let stop = exec.expect_bug_check();
    assert_eq!(
        stop,
        BugCheck::new(bugcheck::WORKER_INVALID, [1, address(&a), 3, 0])
    );
    assert_eq!(stop.name(), "WORKER_INVALID");
    assert_eq!(exec.pending(), 1, "the second call queued nothing");
}

#[test]
fn invalid_queue_types_are_worker_invalid_6() {
    for queue_type in [7, 31, 64] {
        let exec = Executive::manual();
        let mut a = item(record, 1);
        queue(&mut a, queue_type);
        assert_eq!(
            exec.bug_check(),
            Some(BugCheck::new(
                bugcheck::WORKER_INVALID,
                [6, address(&a), queue_type as usize, 0]
            )),
            "queue type {queue_type}"
        );
        assert_eq!(exec.pending(), 0);
        assert!(a.List.Flink.is_null(), "not queued");
    }
}

#[test]
fn a_negative_queue_type_is_a_host_diagnostic() {
    for queue_type in [-1, i32::MIN] {
        let exec = Executive::manual();
        let mut a = item(record, 1);
        queue(&mut a, queue_type);
        let stop = exec.expect_bug_check();
        assert_eq!(
            stop,
            BugCheck::new(
                bugcheck::HOST_NEGATIVE_QUEUE_TYPE,
                [address(&a), queue_type as usize, 0, 0]
            ),
            "queue type {queue_type}"
        );
        assert!(stop.is_host_diagnostic());
        assert_eq!(exec.pending(), 0);
    }
}

#[test]
fn ex_queue_work_item_checks_flink_before_the_queue_type_before_the_routine() {
    // Queued already *and* a bad queue type *and* no routine: 0xE4/1 wins.
    let exec = Executive::manual();
    let mut a = item(record, 1);
    queue(&mut a, ffi::DelayedWorkQueue);
    a.WorkerRoutine = None;
    queue(&mut a, 7);
    assert_eq!(exec.expect_bug_check().subcode(), 1);
    // A bad queue type and no routine: 0xE4/6 wins.
    let exec = Executive::manual();
    let mut b = item(record, 2);
    b.WorkerRoutine = None;
    queue(&mut b, 7);
    assert_eq!(exec.expect_bug_check().subcode(), 6);
}

#[test]
fn a_null_work_item_is_a_host_diagnostic() {
    let exec = Executive::manual();
    // SAFETY: the misuse under test; the host checks before reading.
    unsafe { ffi::ExQueueWorkItem(null_mut(), ffi::DelayedWorkQueue) };
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::HOST_NULL_WORK_ITEM,
            [ffi::ExQueueWorkItem as *const () as usize, 0, 0, 0]
        )
    );
}

#[test]
fn a_queue_type_the_target_lacks_is_worker_invalid_6() {
    let exec = Executive::manual();
    exec.set_target(host::WindowsVersion::Windows7);
    let mut a = item(record, 1);
    queue(&mut a, ffi::NormalWorkQueue);
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::WORKER_INVALID,
            [6, address(&a), ffi::NormalWorkQueue as usize, 0]
        ),
        "Windows 7's MaximumWorkQueue was 3"
    );
    let exec = Executive::manual();
    exec.set_target(host::WindowsVersion::Windows8);
    let mut b = item(record, 2);
    queue(&mut b, ffi::CustomPriorityWorkQueue + 4);
    assert_eq!(
        exec.expect_bug_check().subcode(),
        6,
        "custom queues came with 8.1"
    );
}

#[test]
fn a_null_routine_is_worker_invalid_7() {
    let exec = Executive::manual();
    let mut a = item(record, 1);
    a.WorkerRoutine = None;
    queue(&mut a, ffi::DelayedWorkQueue);
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(bugcheck::WORKER_INVALID, [7, address(&a), 0, 0]),
        "parameter 3 is the routine address"
    );
    assert_eq!(exec.pending(), 0);
}

#[test]
fn freeing_pool_that_holds_a_queued_item_is_a_host_diagnostic_without_verifier() {
    let exec = Executive::manual();
    let layout = Layout::new::<WORK_QUEUE_ITEM>();
    let block = host::pool::allocate(layout).cast::<WORK_QUEUE_ITEM>();
    // SAFETY: a fresh block for one item; it stays allocated (the executive
    // refuses to free a block with a queued item).
    unsafe {
        (&raw mut (*block).List.Blink).write(null_mut());
        ffi::ExInitializeWorkItem(block, Some(record), null_mut());
        ffi::ExQueueWorkItem(block, ffi::DelayedWorkQueue);
        host::pool::free(block.cast(), layout);
    }
    let start = block as usize;
    let stop = exec.expect_bug_check();
    assert_eq!(
        stop,
        BugCheck::new(
            bugcheck::HOST_FREED_QUEUED_ITEM,
            [0, start, start, start + layout.size()]
        )
    );
    assert!(stop.is_host_diagnostic());
}

#[test]
fn freeing_pool_that_holds_a_queued_item_is_worker_invalid_0_under_verifier() {
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    // Two items in one block; the second is queued.
    let layout = Layout::new::<[WORK_QUEUE_ITEM; 2]>();
    let block = host::pool::allocate(layout);
    assert!(!block.is_null());
    let second = block.cast::<WORK_QUEUE_ITEM>().wrapping_add(1);
    // SAFETY: `second` lies inside the fresh block; it stays allocated (the
    // executive leaks the block instead of freeing it).
    unsafe {
        (&raw mut (*second).List.Blink).write(null_mut());
        ffi::ExInitializeWorkItem(second, Some(record), null_mut());
        ffi::ExQueueWorkItem(second, ffi::DelayedWorkQueue);
        host::pool::free(block, layout);
    }
    let start = block as usize;
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::WORKER_INVALID,
            [0, second as usize, start, start + layout.size()]
        )
    );
    assert_eq!(exec.pool_outstanding(), 1, "the block was not freed");
    assert!(!exec.run_next(), "a bug-checked executive runs nothing");
}

#[test]
fn freeing_pool_after_the_item_ran_is_fine() {
    let exec = Executive::manual();
    let layout = Layout::new::<WORK_QUEUE_ITEM>();
    let raw = host::pool::allocate(layout).cast::<WORK_QUEUE_ITEM>();
    assert!(!raw.is_null());
    // SAFETY: a fresh block for one item.
    unsafe {
        (&raw mut (*raw).List.Blink).write(null_mut());
        ffi::ExInitializeWorkItem(
            raw,
            Some(record),
            core::ptr::without_provenance_mut::<c_void>(9),
        );
        ffi::ExQueueWorkItem(raw, ffi::DelayedWorkQueue);
    }
    assert_eq!(exec.pool_outstanding(), 1);
    assert_eq!(exec.run_until_idle(), 1);
    // SAFETY: the item ran, nothing uses the block any more.
    unsafe { host::pool::free(raw.cast(), layout) };
    assert_eq!((exec.bug_check(), exec.pool_outstanding()), (None, 0));
    assert_eq!(log(), [9]);
}

#[test]
fn freeing_pool_twice_is_a_verifier_bad_address() {
    let exec = Executive::manual();
    exec.set_driver_verifier(true);
    let layout = Layout::new::<u64>();
    let block = host::pool::allocate(layout);
    // SAFETY: the block is not used after the first free; the second is the misuse.
    unsafe {
        host::pool::free(block, layout);
        host::pool::free(block, layout);
    }
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x10, block as usize, 0, 0]
        )
    );
}

/// Raises the IRQL and forgets to lower it.
unsafe extern "system" fn leave_at_dispatch(_: *mut c_void) {
    host::raise_irql(ffi::DISPATCH_LEVEL);
}

#[test]
fn a_routine_returning_at_raised_irql_is_0xe1() {
    let exec = Executive::manual();
    let mut a = item(leave_at_dispatch, 0x55);
    queue(&mut a, ffi::DelayedWorkQueue);
    assert!(exec.run_next());
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::WORKER_THREAD_RETURNED_AT_BAD_IRQL,
            [
                leave_at_dispatch as *const () as usize,
                2,
                0x55,
                address(&a)
            ]
        )
    );
    assert_eq!(
        host::current_irql(),
        ffi::PASSIVE_LEVEL,
        "the caller's IRQL is restored"
    );
}

#[test]
fn queueing_above_dispatch_level_is_a_host_diagnostic() {
    let exec = Executive::manual();
    let mut a = item(record, 1);
    let old = host::raise_irql(ffi::HIGH_LEVEL);
    queue(&mut a, ffi::DelayedWorkQueue);
    host::lower_irql(old);
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::HOST_IRQL_ABOVE_DISPATCH,
            [
                ffi::ExQueueWorkItem as *const () as usize,
                15,
                address(&a),
                0
            ]
        )
    );
    assert!(exec.expect_bug_check().is_host_diagnostic());
    assert_eq!(exec.pending(), 0);
}

#[test]
fn queueing_at_dispatch_level_is_allowed_and_routines_run_at_passive() {
    unsafe extern "system" fn record_irql(_: *mut c_void) {
        LOG.with(|log| log.borrow_mut().push(host::current_irql().into()));
    }
    let exec = Executive::manual();
    let mut a = item(record_irql, 0);
    host::at_dispatch_level(|| {
        assert_eq!(host::current_irql(), ffi::DISPATCH_LEVEL);
        queue(&mut a, ffi::DelayedWorkQueue);
        // Stepping from DISPATCH_LEVEL still runs the routine at PASSIVE_LEVEL.
        assert!(exec.run_next());
        assert_eq!(host::current_irql(), ffi::DISPATCH_LEVEL);
    });
    assert_eq!(host::current_irql(), ffi::PASSIVE_LEVEL);
    assert_eq!(log(), [usize::from(ffi::PASSIVE_LEVEL)]);
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn raising_irql_below_the_current_level_is_a_verifier_violation() {
    let exec = Executive::manual();
    host::raise_irql(ffi::DISPATCH_LEVEL);
    assert_eq!(host::raise_irql(ffi::APC_LEVEL), ffi::DISPATCH_LEVEL);
    host::lower_irql(ffi::PASSIVE_LEVEL);
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x30, 2, 1, 0]
        )
    );
}

struct Requeue {
    item: WORK_QUEUE_ITEM,
    runs: usize,
}

/// Requeues its own item until it ran three times.
unsafe extern "system" fn requeue_self(parameter: *mut c_void) {
    let this = parameter.cast::<Requeue>();
    // SAFETY: the parameter is the test's `Requeue`, alive while items run.
    unsafe {
        assert!(
            (*this).item.List.Flink.is_null(),
            "dequeued before the routine runs"
        );
        (*this).runs += 1;
        if (*this).runs < 3 {
            ffi::ExQueueWorkItem(&raw mut (*this).item, ffi::DelayedWorkQueue);
        }
    }
}

#[test]
fn a_routine_may_requeue_its_own_item() {
    let exec = Executive::manual();
    let mut requeue = Box::new(Requeue {
        item: *item(record, 0),
        runs: 0,
    });
    let this: *mut Requeue = &mut *requeue;
    // SAFETY: `requeue` outlives the run below.
    unsafe {
        ffi::ExInitializeWorkItem(&raw mut (*this).item, Some(requeue_self), this.cast());
        ffi::ExQueueWorkItem(&raw mut (*this).item, ffi::DelayedWorkQueue);
    }
    assert_eq!(exec.run_until_idle(), 3);
    assert_eq!(requeue.runs, 3);
    assert_eq!(exec.bug_check(), None);
}

/// A hand-written Ex routine that panics.
struct Boom;

impl ntwork::Routine for Boom {
    type Context = ();
}

impl ExRoutine for Boom {
    fn run(_: (), _: &mut ntwork::irql::Passive<'_>) {
        panic!("boom (expected by the test)");
    }
}

#[test]
fn a_panicking_routine_is_a_labelled_host_diagnostic() {
    let exec = Executive::manual();
    let parameter = ntwork::raw::into_parameter(()).unwrap();
    let routine = ntwork::raw::ex_routine::<Boom>();
    let mut a = item(routine, parameter as usize);
    queue(&mut a, ffi::DelayedWorkQueue);
    assert!(exec.run_next(), "the panic does not escape to the test");
    assert_eq!(
        exec.expect_bug_check(),
        BugCheck::new(
            bugcheck::HOST_RUST_PANIC,
            [routine as *const () as usize, 0, 0, 0]
        )
    );
    assert!(exec.expect_bug_check().is_host_diagnostic());
}

#[test]
fn a_bug_check_stops_dispatch_and_later_calls() {
    let exec = Executive::manual();
    let mut good = item(record, 1);
    let mut twice = item(record, 2);
    queue(&mut good, ffi::DelayedWorkQueue);
    queue(&mut twice, ffi::DelayedWorkQueue);
    queue(&mut twice, ffi::DelayedWorkQueue);
    let first = exec.expect_bug_check();
    assert_eq!(first.parameters[..2], [1, address(&twice)]);

    assert!(!exec.run_next());
    assert_eq!(exec.run_until_idle(), 0);
    let mut later = item(record, 3);
    queue(&mut later, 99); // would be 0xE4/6 on a live executive
    assert!(
        later.List.Flink.is_null(),
        "nothing queued after the bug check"
    );
    assert_eq!(exec.bug_check(), Some(first), "the first bug check stays");
    assert_eq!((exec.items_run(), exec.pending()), (0, 2));
    assert!(log().is_empty());
}

#[test]
fn bug_checks_display_like_the_kernel() {
    let stop = BugCheck::new(bugcheck::WORKER_INVALID, [1, 0x1000, 3, 0]);
    assert_eq!(
        stop.to_string(),
        "0xE4 WORKER_INVALID (0x1, 0x1000, 0x3, 0x0)"
    );
    let stop = BugCheck::new(
        bugcheck::DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
        [0; 4],
    );
    assert_eq!(
        stop.name(),
        "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS"
    );
}

#[test]
#[should_panic(expected = "expected a bug check")]
fn expect_bug_check_panics_without_one() {
    let exec = Executive::manual();
    exec.expect_bug_check();
}
