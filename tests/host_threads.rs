//! Threaded executives and isolation: items run on worker threads, `wait_idle`
//! waits for them, executives bound to different threads do not see each
//! other's work, and a bug check stops the workers.

use core::ffi::c_void;
use core::ptr::null_mut;
use ntwork::irql::Passive;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, ThreadId};

use ntwork::ffi::{self, WORK_QUEUE_ITEM};
use ntwork::{ExRoutine, ExWorkItem, WorkQueue};
use ntwork_host as host;
use ntwork_host::{Executive, bugcheck};
use ntwork_suite::{Counted, Tally};

/// What routines saw, in atomics (ThreadSanitizer cannot see std's locks):
/// runs, runs on a thread named like a worker, runs at PASSIVE_LEVEL, and
/// runs on the test's own thread.
#[derive(Default)]
struct Seen {
    test_thread: std::sync::OnceLock<ThreadId>,
    runs: AtomicUsize,
    on_workers: AtomicUsize,
    at_passive: AtomicUsize,
    on_test_thread: AtomicUsize,
}

unsafe extern "system" fn note_thread(parameter: *mut c_void) {
    // SAFETY: the parameter is the test's `Seen`, alive until `wait_idle`.
    let seen = unsafe { &*parameter.cast::<Seen>() };
    let me = thread::current();
    seen.runs.fetch_add(1, Ordering::SeqCst);
    if me.name().unwrap_or_default().starts_with("worker-") {
        seen.on_workers.fetch_add(1, Ordering::SeqCst);
    }
    if host::current_irql() == ffi::PASSIVE_LEVEL {
        seen.at_passive.fetch_add(1, Ordering::SeqCst);
    }
    if seen.test_thread.get() == Some(&me.id()) {
        seen.on_test_thread.fetch_add(1, Ordering::SeqCst);
    }
}

fn items(
    count: usize,
    routine: ffi::WORKER_THREAD_ROUTINE,
    parameter: *mut c_void,
) -> Vec<WORK_QUEUE_ITEM> {
    (0..count)
        .map(|_| WORK_QUEUE_ITEM {
            WorkerRoutine: Some(routine),
            Parameter: parameter,
            ..WORK_QUEUE_ITEM::new()
        })
        .collect()
}

#[test]
fn threaded_items_run_on_worker_threads_at_passive_level() {
    let exec = Executive::new();
    let seen = Seen::default();
    seen.test_thread.set(thread::current().id()).unwrap();
    let parameter = (&raw const seen).cast_mut().cast();
    let mut items = items(12, note_thread, parameter);
    let queues = [
        ffi::CriticalWorkQueue,
        ffi::DelayedWorkQueue,
        ffi::CustomPriorityWorkQueue + 3,
    ];
    for (index, item) in items.iter_mut().enumerate() {
        // SAFETY: the items and `seen` outlive `wait_idle` below.
        unsafe { ffi::ExQueueWorkItem(item, queues[index % 3]) };
    }
    exec.wait_idle();
    assert_eq!(exec.items_run(), 12);
    assert_eq!(exec.pending(), 0);
    assert_eq!(seen.runs.load(Ordering::SeqCst), 12);
    assert_eq!(seen.on_workers.load(Ordering::SeqCst), 12, "worker threads");
    assert_eq!(seen.at_passive.load(Ordering::SeqCst), 12);
    assert_eq!(
        seen.on_test_thread.load(Ordering::SeqCst),
        0,
        "not the test thread"
    );
    assert!(items.iter().all(|item| item.List.Flink.is_null()));
    assert_eq!(exec.bug_check(), None);
}

struct Count;

impl ntwork::Routine for Count {
    type Context = Counted;
}

impl ExRoutine for Count {
    fn run(context: Counted, _: &mut Passive<'_>) {
        context.mark_ran();
    }
}

#[test]
fn safe_items_on_a_threaded_executive_run_once_and_are_freed() {
    static WORK: ntwork::Rundown = ntwork::Rundown::new();
    let exec = Executive::new();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "safe_items_on_a_threaded_executive_run_once_and_are_freed.sys",
        &[&WORK],
    );
    let tally = Tally::new();
    for id in 0..50 {
        ExWorkItem::<Count>::new(Counted::new(&tally, id), &Passive::on_host())
            .unwrap()
            .queue(&WORK, WorkQueue::Delayed, &Passive::on_host())
            .unwrap();
    }
    let ran = exec.run_until_idle();
    // Some items may have finished before the wait started.
    assert!(ran <= 50);
    assert_eq!(exec.items_run(), 50);
    assert_eq!((tally.ran(), tally.dropped()), (50, 50));
    assert_eq!(exec.pool_outstanding(), 0);
}

static RUNS_A: AtomicUsize = AtomicUsize::new(0);
static RUNS_B: AtomicUsize = AtomicUsize::new(0);

unsafe extern "system" fn bump(parameter: *mut c_void) {
    // SAFETY: the parameter is one of the statics above.
    unsafe { &*parameter.cast::<AtomicUsize>() }.fetch_add(1, Ordering::SeqCst);
}

/// On its own thread: a manual executive with `count` items queued.
fn queue_on_own_executive(count: usize, counter: &'static AtomicUsize) -> (usize, usize) {
    let exec = Executive::manual();
    let parameter = (counter as *const AtomicUsize).cast_mut().cast();
    let mut items = items(count, bump, parameter);
    for item in &mut items {
        // SAFETY: the items outlive the run below.
        unsafe { ffi::ExQueueWorkItem(item, ffi::DelayedWorkQueue) };
    }
    let pending = exec.pending();
    let ran = exec.run_until_idle();
    (pending, ran)
}

#[test]
fn executives_on_different_threads_are_isolated() {
    let a = thread::spawn(|| queue_on_own_executive(3, &RUNS_A));
    let b = thread::spawn(|| queue_on_own_executive(5, &RUNS_B));
    assert_eq!(a.join().unwrap(), (3, 3));
    assert_eq!(b.join().unwrap(), (5, 5));
    assert_eq!(RUNS_A.load(Ordering::SeqCst), 3);
    assert_eq!(RUNS_B.load(Ordering::SeqCst), 5);
}

#[test]
fn enter_binds_a_spawned_thread_until_the_guard_drops() {
    let exec = Executive::manual();
    let other = Executive::manual(); // now bound here instead of `exec`
    let counter = AtomicUsize::new(0);
    let parameter = (&raw const counter).cast_mut().cast();
    let mut item = items(1, bump, parameter);
    // Raw pointers are not Send: cross the thread in a wrapper that is.
    struct Item(*mut WORK_QUEUE_ITEM);
    // SAFETY: only the spawned thread uses the pointer, while the test waits.
    unsafe impl Send for Item {}
    impl Item {
        fn get(&self) -> *mut WORK_QUEUE_ITEM {
            self.0
        }
    }
    let raw = Item(item.as_mut_ptr());
    let exec_ref = &exec;
    thread::scope(|scope| {
        scope.spawn(move || {
            let exec = exec_ref;
            let _guard = exec.enter();
            // SAFETY: the item and counter outlive the run below.
            unsafe { ffi::ExQueueWorkItem(raw.get(), ffi::NormalWorkQueue) };
        });
    });
    assert_eq!(
        exec.pending_in(WorkQueue::Normal.as_raw()),
        1,
        "queued on the entered executive"
    );
    assert_eq!(other.pending(), 0);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(counter.load(Ordering::SeqCst), 1);
    drop(other);
    // After `other` dropped, this thread is bound to `exec` again.
    let mut again = items(1, bump, parameter);
    // SAFETY: the item and counter outlive the run below.
    unsafe { ffi::ExQueueWorkItem(&mut again[0], ffi::NormalWorkQueue) };
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(counter.load(Ordering::SeqCst), 2);
}

unsafe extern "system" fn leave_at_dispatch(_: *mut c_void) {
    host::raise_irql(ffi::DISPATCH_LEVEL);
}

#[test]
fn a_bug_check_on_a_worker_stops_the_threaded_executive() {
    let exec = Executive::new();
    let mut bad = items(1, leave_at_dispatch, null_mut());
    // SAFETY: the item outlives the executive's use (it runs before wait_idle returns).
    unsafe { ffi::ExQueueWorkItem(&mut bad[0], ffi::DelayedWorkQueue) };
    exec.wait_idle();
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::WORKER_THREAD_RETURNED_AT_BAD_IRQL);
    assert_eq!(stop.parameters[1], 2);

    let counter = AtomicUsize::new(0);
    let mut later = items(1, bump, (&raw const counter).cast_mut().cast());
    // SAFETY: nothing is queued on a bug-checked executive.
    unsafe { ffi::ExQueueWorkItem(&mut later[0], ffi::DelayedWorkQueue) };
    exec.wait_idle();
    assert!(later[0].List.Flink.is_null(), "not queued");
    assert_eq!(counter.load(Ordering::SeqCst), 0);
    assert_eq!(exec.run_until_idle(), 0);
}
