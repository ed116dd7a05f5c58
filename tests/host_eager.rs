//! The eager executive: every queue call returns only after a worker thread
//! has run its item, so "touched after it was handed over" is deterministic;
//! and an idle threaded executive has a worker `IoTryQueueWorkItem` can use.

use core::ffi::c_void;
use core::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::ThreadId;
use std::time::Duration;

use ntwork::ffi::{self, PIO_WORKITEM, WORK_QUEUE_ITEM};
use ntwork_host::{BugCheck, Executive, bugcheck};

/// What a routine saw: the thread it ran on.
struct Ran {
    thread: std::sync::Mutex<Option<ThreadId>>,
    count: AtomicUsize,
}

impl Ran {
    fn new() -> Self {
        Self {
            thread: std::sync::Mutex::new(None),
            count: AtomicUsize::new(0),
        }
    }

    fn mark(&self) {
        *self.thread.lock().unwrap() = Some(std::thread::current().id());
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

unsafe extern "system" fn mark(parameter: *mut c_void) {
    // SAFETY: the tests pass a `Ran` that outlives the queue call.
    unsafe { &*parameter.cast::<Ran>() }.mark();
}

#[test]
fn ex_queue_work_item_returns_after_a_worker_ran_the_routine() {
    let exec = Executive::eager();
    assert!(exec.is_eager() && exec.is_threaded());
    let ran = Ran::new();
    let mut item = WORK_QUEUE_ITEM::new();
    // SAFETY: the item and `ran` outlive the (eager) queue call.
    unsafe {
        ffi::ExInitializeWorkItem(&mut item, Some(mark), (&raw const ran).cast_mut().cast());
        ffi::ExQueueWorkItem(&mut item, ffi::DelayedWorkQueue);
    }
    assert_eq!(
        ran.count.load(Ordering::SeqCst),
        1,
        "ran before the call returned"
    );
    let worker = ran.thread.lock().unwrap().expect("ran");
    assert_ne!(worker, std::thread::current().id(), "on a worker thread");
    assert!(item.List.Flink.is_null(), "dequeued");
    assert_eq!((exec.pending(), exec.items_run()), (0, 1));
    assert_eq!(exec.bug_check(), None);
}

/// An `IO_WORKITEM_ROUTINE_EX` that counts and frees its own item.
unsafe extern "system" fn free_own(_: *mut c_void, context: *mut c_void, item: PIO_WORKITEM) {
    // SAFETY: the test passes an `AtomicUsize` that outlives the queue call.
    unsafe { &*context.cast::<AtomicUsize>() }.fetch_add(1, Ordering::SeqCst);
    // SAFETY: the routine owns its item (IoQueueWorkItemEx contract).
    unsafe { ffi::IoFreeWorkItem(item) };
}

#[test]
fn an_io_item_is_freed_by_its_routine_before_the_queue_call_returns() {
    let exec = Executive::eager();
    let driver = exec.load_driver("eager-io.sys");
    let device = driver.create_device();
    let runs = AtomicUsize::new(0);
    let context = (&raw const runs).cast_mut().cast();
    for try_queue in [false, true] {
        // SAFETY: a device of the bound executive.
        let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
        assert_eq!(exec.io_work_items_outstanding(), 1);
        if try_queue {
            // SAFETY: allocated, not queued; the routine frees it.
            let queued = unsafe {
                ffi::IoTryQueueWorkItem(item, Some(free_own), ffi::DelayedWorkQueue, context)
            };
            assert_eq!(
                queued, 1,
                "IoTryQueueWorkItem is TRUE on an eager executive"
            );
        } else {
            // SAFETY: allocated, not queued; the routine frees it.
            unsafe { ffi::IoQueueWorkItemEx(item, Some(free_own), ffi::DelayedWorkQueue, context) };
        }
        assert_eq!(
            exec.io_work_items_outstanding(),
            0,
            "the routine freed the item before the call returned: reading it now is a use after free"
        );
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(
        device.reference_count(),
        1,
        "the queue's references are gone"
    );
    assert_eq!(exec.bug_check(), None);
}

/// Queues itself again once; the second run happens on another worker while
/// the first still waits in its own queue call.
unsafe extern "system" fn requeue_once(parameter: *mut c_void) {
    let item = parameter.cast::<WORK_QUEUE_ITEM>();
    // SAFETY: the test's item, which carries the counter after it.
    let state = unsafe { &*item.cast::<Requeue>() };
    if state.runs.fetch_add(1, Ordering::SeqCst) == 0 {
        // SAFETY: the worker removed the item before calling the routine.
        unsafe { ffi::ExQueueWorkItem(item, ffi::DelayedWorkQueue) };
        assert_eq!(
            state.runs.load(Ordering::SeqCst),
            2,
            "the requeued run finished first"
        );
    }
}

#[repr(C)]
struct Requeue {
    item: WORK_QUEUE_ITEM,
    runs: AtomicUsize,
}

#[test]
fn a_routine_that_requeues_its_item_waits_for_the_second_run() {
    let exec = Executive::eager();
    let mut state = Requeue {
        item: WORK_QUEUE_ITEM::new(),
        runs: AtomicUsize::new(0),
    };
    // The whole state's pointer: the routine reads the counter after the item.
    let item = (&raw mut state).cast::<WORK_QUEUE_ITEM>();
    // SAFETY: the state outlives both runs (each queue call waits for its run).
    unsafe {
        ffi::ExInitializeWorkItem(item, Some(requeue_once), item.cast());
        ffi::ExQueueWorkItem(item, ffi::DelayedWorkQueue);
    }
    assert_eq!(state.runs.load(Ordering::SeqCst), 2);
    assert!(
        exec.worker_threads() >= 2,
        "the second run needed a second worker"
    );
    assert_eq!(exec.bug_check(), None);
}

static RELEASED: AtomicBool = AtomicBool::new(false);

/// Waits for a flag the queueing thread sets only after the queue call.
unsafe extern "system" fn wait_for_queuer(_: *mut c_void) {
    while !RELEASED.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_routine_waiting_for_the_queueing_thread_is_a_host_diagnostic_not_a_hang() {
    let exec = Executive::eager();
    exec.set_starvation_limit(Duration::from_millis(100));
    let mut item = Box::new(WORK_QUEUE_ITEM::new());
    // SAFETY: the boxed item outlives the executive's use of it.
    unsafe {
        ffi::ExInitializeWorkItem(&mut *item, Some(wait_for_queuer), null_mut());
        ffi::ExQueueWorkItem(&mut *item, ffi::DelayedWorkQueue);
    }
    let stop = exec.expect_bug_check();
    // Released before the checks, so a failed one cannot leave the routine
    // spinning (the executive's drop would wait for it).
    RELEASED.store(true, Ordering::SeqCst);
    assert_eq!(stop.code, bugcheck::HOST_EAGER_WAIT_TIMEOUT);
    assert!(stop.is_host_diagnostic());
    assert!(stop.parameters[2] >= 100, "milliseconds waited");
    // Miri gives each fn pointer an address of its own: no address compare.
    if !cfg!(miri) {
        assert_eq!(
            stop.parameters[1], wait_for_queuer as *const () as usize,
            "the routine, which is running"
        );
    }
    exec.wait_idle();
}

unsafe extern "system" fn io_nothing(_: *mut c_void, _: *mut c_void, _: PIO_WORKITEM) {}

/// Windows: an idle system has an idle worker, so `IoTryQueueWorkItem`
/// queues (TRUE); a fresh threaded executive is an idle system.
#[test]
fn try_queue_on_a_fresh_threaded_executive_is_true() {
    let exec = Executive::new();
    let driver = exec.load_driver("fresh.sys");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    // SAFETY: allocated and not queued.
    let queued = unsafe {
        ffi::IoTryQueueWorkItem(item, Some(io_nothing), ffi::DelayedWorkQueue, null_mut())
    };
    assert_eq!(queued, 1);
    exec.wait_idle();
    assert_eq!(exec.items_run(), 1);
    // SAFETY: it ran, so it is not queued.
    unsafe { ffi::IoFreeWorkItem(item) };
    assert_eq!(exec.bug_check(), None::<BugCheck>);
}
