//! The Windows 8+ worker pool on the threaded host executive: workers start on
//! demand up to a cap, a routine that waits for another item of its own queue
//! completes, idle extras exit, starvation is reported instead of hanging, and
//! `IoTryQueueWorkItem` queues only when an idle worker can start the item.

use core::ffi::c_void;
use core::ptr::null_mut;
use ntwork::irql::Passive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ntwork::ffi::{self, WORK_QUEUE_ITEM};
use ntwork_host::{Executive, bugcheck};

/// A one-shot event a routine can wait on (KEVENT-like). Atomic and
/// polled, so ThreadSanitizer (which cannot see std's futex locks) sees the
/// hand-off.
#[derive(Default)]
struct Event {
    set: AtomicBool,
}

impl Event {
    fn set(&self) {
        self.set.store(true, Ordering::Release);
    }

    /// Waits up to `limit`; whether the event was set.
    fn wait(&self, limit: Duration) -> bool {
        wait_until(limit, || self.set.load(Ordering::Acquire))
    }
}

/// Two items of one queue: the first waits for the second.
struct Pair {
    first: WORK_QUEUE_ITEM,
    second: WORK_QUEUE_ITEM,
    second_ran: Event,
    first_saw_second: AtomicBool,
}

unsafe extern "system" fn first(parameter: *mut c_void) {
    // SAFETY: the test's `Pair`, alive until `wait_idle`.
    let pair = unsafe { &mut *parameter.cast::<Pair>() };
    // SAFETY: the second item lives in the pair and is not queued yet.
    unsafe { ffi::ExQueueWorkItem(&mut pair.second, ffi::DelayedWorkQueue) };
    let saw = pair.second_ran.wait(Duration::from_secs(5));
    pair.first_saw_second.store(saw, Ordering::SeqCst);
}

unsafe extern "system" fn second(parameter: *mut c_void) {
    // SAFETY: the test's `Pair`, alive until `wait_idle`.
    let pair = unsafe { &*parameter.cast::<Pair>() };
    pair.second_ran.set();
}

#[test]
fn a_routine_that_waits_for_another_item_of_its_queue_completes() {
    let exec = Executive::new();
    let mut pair = Box::new(Pair {
        first: WORK_QUEUE_ITEM::new(),
        second: WORK_QUEUE_ITEM::new(),
        second_ran: Event::default(),
        first_saw_second: AtomicBool::new(false),
    });
    let parameter = (&raw mut *pair).cast::<c_void>();
    pair.first.WorkerRoutine = Some(first);
    pair.first.Parameter = parameter;
    pair.second.WorkerRoutine = Some(second);
    pair.second.Parameter = parameter;
    // SAFETY: the pair outlives `wait_idle`.
    unsafe { ffi::ExQueueWorkItem(&mut pair.first, ffi::DelayedWorkQueue) };
    exec.wait_idle();
    assert!(
        pair.first_saw_second.load(Ordering::SeqCst),
        "a second worker started for the second item"
    );
    assert!(exec.worker_threads() >= 2);
    assert_eq!(exec.bug_check(), None);
}

/// Blocks until the test opens the gate.
struct Gate {
    open: Event,
    entered: AtomicUsize,
}

unsafe extern "system" fn blocked(parameter: *mut c_void) {
    // SAFETY: the test's `Gate`, alive until the executive is idle.
    let gate = unsafe { &*parameter.cast::<Gate>() };
    gate.entered.fetch_add(1, Ordering::SeqCst);
    gate.open.wait(Duration::from_secs(10));
}

/// A gate, and `n` items whose routine blocks on it.
fn gated(n: usize) -> (Box<Gate>, Vec<WORK_QUEUE_ITEM>) {
    let gate = Box::new(Gate {
        open: Event::default(),
        entered: AtomicUsize::new(0),
    });
    let parameter = (&raw const *gate).cast_mut().cast();
    let items = (0..n)
        .map(|_| WORK_QUEUE_ITEM {
            WorkerRoutine: Some(blocked),
            Parameter: parameter,
            ..WORK_QUEUE_ITEM::new()
        })
        .collect();
    (gate, items)
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

#[test]
fn workers_start_on_demand_up_to_the_cap_and_idle_extras_exit() {
    let exec = Executive::new();
    exec.set_max_workers(3);
    exec.set_worker_idle_timeout(Duration::from_millis(20));
    let (gate, mut items) = gated(5);
    assert_eq!(
        exec.worker_threads(),
        1,
        "one idle worker before the first item, as an idle system has"
    );
    for item in &mut items {
        // SAFETY: the items and the gate outlive `wait_idle`.
        unsafe { ffi::ExQueueWorkItem(item, ffi::DelayedWorkQueue) };
    }
    assert!(wait_until(Duration::from_secs(5), || gate
        .entered
        .load(Ordering::SeqCst)
        == 3));
    assert_eq!(exec.worker_threads(), 3, "capped");
    assert_eq!(exec.pending(), 2, "the rest wait for a worker");
    gate.open.set();
    exec.wait_idle();
    assert_eq!(gate.entered.load(Ordering::SeqCst), 5);
    assert!(
        wait_until(Duration::from_secs(5), || exec.worker_threads() == 1),
        "idle extras exit, the last worker stays"
    );
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn starvation_is_a_host_diagnostic_not_a_hang() {
    let exec = Executive::new();
    exec.set_max_workers(1);
    exec.set_starvation_limit(Duration::from_millis(50));
    let (gate, mut items) = gated(2);
    for item in &mut items {
        // SAFETY: the items and the gate outlive the executive.
        unsafe { ffi::ExQueueWorkItem(item, ffi::CriticalWorkQueue) };
    }
    assert!(wait_until(Duration::from_secs(5), || exec
        .bug_check()
        .is_some()));
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_WORKER_STARVATION);
    assert!(stop.is_host_diagnostic());
    assert_eq!(stop.parameters[..3], [1, 1, blocked as *const () as usize]);
    assert!(stop.parameters[3] >= 50, "milliseconds waited");
    gate.open.set();
    // Joins the worker before the gate it waits on goes away.
    drop(exec);
}

unsafe extern "system" fn io_nothing(_: *mut c_void, _: *mut c_void, _: ffi::PIO_WORKITEM) {}

#[test]
fn try_queue_is_false_when_no_idle_worker_can_start_the_item() {
    // Manual: a budget of idle workers stands for the pool.
    let exec = Executive::manual();
    let driver = exec.load_driver("try.sys");
    let device = driver.create_device();
    // SAFETY: a device of the bound executive.
    let (a, b) = unsafe {
        (
            ffi::IoAllocateWorkItem(device.as_raw()),
            ffi::IoAllocateWorkItem(device.as_raw()),
        )
    };
    let try_queue = |item| {
        // SAFETY: allocated and not queued.
        unsafe {
            ffi::IoTryQueueWorkItem(item, Some(io_nothing), ffi::DelayedWorkQueue, null_mut())
        }
    };
    assert_eq!(try_queue(a), 1, "one idle worker by default");
    assert_eq!(try_queue(b), 0, "it is spoken for: FALSE");
    assert_eq!(device.reference_count(), 2, "FALSE kept no reference");
    assert_eq!(exec.pending(), 1);
    exec.set_idle_workers(2);
    assert_eq!(try_queue(b), 1);
    assert_eq!(exec.run_until_idle(), 2);
    // SAFETY: both ran, so neither is queued.
    unsafe {
        ffi::IoFreeWorkItem(a);
        ffi::IoFreeWorkItem(b);
    }
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn threaded_try_queue_is_false_while_every_worker_is_busy() {
    let exec = Executive::new();
    exec.set_max_workers(1);
    let driver = exec.load_driver("busy.sys");
    let device = driver.create_device();
    let (gate, mut busy) = gated(1);
    // SAFETY: the item and the gate outlive `wait_idle`.
    unsafe { ffi::ExQueueWorkItem(&mut busy[0], ffi::DelayedWorkQueue) };
    assert!(wait_until(Duration::from_secs(5), || gate
        .entered
        .load(Ordering::SeqCst)
        == 1));
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    // SAFETY: allocated and not queued.
    let queued = unsafe {
        ffi::IoTryQueueWorkItem(item, Some(io_nothing), ffi::DelayedWorkQueue, null_mut())
    };
    assert_eq!(queued, 0, "the only worker is busy");
    assert_eq!(device.reference_count(), 1);
    gate.open.set();
    exec.wait_idle();
    assert!(wait_until(Duration::from_secs(5), || {
        // SAFETY: the item allocated above; not queued (the last try returned FALSE or ran).
        let queued = unsafe {
            ffi::IoTryQueueWorkItem(item, Some(io_nothing), ffi::DelayedWorkQueue, null_mut())
        };
        queued == 1
    }));
    exec.wait_idle();
    // SAFETY: it ran, so it is not queued.
    unsafe { ffi::IoFreeWorkItem(item) };
    assert_eq!(exec.bug_check(), None);
}

/// A driver that signals completion from inside its Io routine, and whose
/// DriverUnload waits for that signal and then returns: legal on Windows (the
/// queue's reference keeps the image mapped until the routine returns).
struct Completion {
    done: Event,
}

unsafe extern "system" fn signal_then_free(
    _: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    // SAFETY: the driver's `Completion`, kept alive by an `Arc` the context owns.
    let completion = unsafe { Arc::from_raw(context.cast_const().cast::<Completion>()) };
    // SAFETY: the routine owns its item (IoQueueWorkItemEx contract).
    unsafe { ffi::IoFreeWorkItem(item) };
    completion.done.set();
    // The routine still runs here, after DriverUnload may have returned.
    drop(completion);
}

fn signal_then_unload_round(exec: &Executive, round: usize) {
    let name = format!("signal-{round}.sys");
    let driver = exec.load_driver(&name);
    let device = driver.create_device();
    let completion = Arc::new(Completion {
        done: Event::default(),
    });
    // SAFETY: a device of the bound executive.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    let context = Arc::into_raw(Arc::clone(&completion)).cast_mut().cast();
    // SAFETY: allocated and not queued; the routine takes the context back.
    unsafe { ffi::IoQueueWorkItemEx(item, Some(signal_then_free), ffi::DelayedWorkQueue, context) };
    if !exec.is_threaded() {
        exec.run_until_idle();
    }
    // DriverUnload: wait for the signal, then return.
    assert!(completion.done.wait(Duration::from_secs(10)));
    assert_eq!(driver.unload(), Ok(()), "round {round}");
    exec.wait_idle();
    assert!(!exec.is_image_mapped(&name), "round {round}");
}

#[test]
fn signalling_completion_inside_the_io_routine_then_unloading_is_fine() {
    let manual = Executive::manual();
    signal_then_unload_round(&manual, 0);
    assert_eq!(manual.bug_check(), None);
    drop(manual);
    let threaded = Executive::new();
    for round in 0..100 {
        signal_then_unload_round(&threaded, round);
    }
    assert_eq!(threaded.bug_check(), None);
}

#[test]
fn a_manual_wait_that_cannot_end_is_a_host_diagnostic() {
    static UNLOAD: ntwork::Rundown = ntwork::Rundown::new();
    #[ntwork::work_item]
    fn pending(value: u32) {
        let _ = value;
    }
    let exec = Executive::manual();
    let _driver = ntwork_suite::load_ex_driver(&exec, "pending.sys", &[&UNLOAD]);
    pending::queue(&UNLOAD, 7, ntwork::WorkQueue::Delayed, &Passive::on_host()).unwrap();
    // DriverUnload waits for its Ex work, but nothing runs it.
    UNLOAD.wait(&Passive::on_host());
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::HOST_MANUAL_WAIT_BLOCKS);
    assert_eq!(stop.parameters[2], 1, "one item pending");
    assert!(stop.is_host_diagnostic());
}
