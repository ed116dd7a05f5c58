//! Dispatch, beside the state: queueing a validated item, worker threads
//! taking items in priority order, running a routine and the kernel's checks
//! after it returns, and the waits of the test API.

use core::ffi::c_void;
use std::format;
use std::string::String;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ntwork_sys::{self as ffi, PASSIVE_LEVEL};

use crate::binding::{bind, take_released_last};
use crate::bugcheck::{
    APC_INDEX_MISMATCH, BugCheck, DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
    HOST_EAGER_WAIT_TIMEOUT, HOST_WORKER_STARVATION, WORKER_THREAD_RETURNED_AT_BAD_IRQL,
};
use crate::context::with_driver_context;
use crate::irql;
use crate::state::{DriverState, Entry, Inner, Mode, Ptr, Running, State};
use crate::version::{PRIORITIES, priority_of};

/// An item taken off a queue, ready to run.
struct Taken {
    entry: Entry,
    routine: ffi::PWORKER_THREAD_ROUTINE,
    parameter: *mut c_void,
}

/// Queues a validated item: marks it queued (`Flink` non-NULL), and wakes an
/// idle worker or starts a new one (up to the cap), as the Windows 8+ pool
/// does when no worker is idle. Returns the item's number.
///
/// # Safety
///
/// `item` is valid for reads and writes until it is dequeued.
pub(crate) unsafe fn enqueue_locked(
    inner: &Arc<Inner>,
    st: &mut State,
    item: *mut ffi::WORK_QUEUE_ITEM,
    mut entry: Entry,
    index: usize,
) -> u64 {
    // A self-linked entry is non-NULL, which is all "queued" means to callers.
    // SAFETY: `item` points to a `WORK_QUEUE_ITEM` (this fn's contract), whose
    // `List` entry is inline; `&raw mut` makes no reference.
    let list = unsafe { &raw mut (*item).List };
    // SAFETY: `list` is inside `*item`, so its `Flink` field is too.
    let flink = unsafe { &raw mut (*list).Flink };
    // SAFETY: `flink` is an aligned field of `*item`, which is valid for
    // writes until it is dequeued (this fn's contract).
    unsafe { flink.write(list) };
    // SAFETY: `list` is inside `*item`, so its `Blink` field is too.
    let blink = unsafe { &raw mut (*list).Blink };
    // SAFETY: `blink` is an aligned field of `*item`, valid for writes.
    unsafe { blink.write(list) };
    st.queues.next_id = st.queues.next_id.wrapping_add(1);
    entry.id = st.queues.next_id;
    entry.item = Ptr(item);
    entry.queue = index;
    st.queues.ready[priority_of(index)].push_back(entry);
    st.queues.queued.insert(item.addr());
    if inner.threaded() {
        if available_workers(st) >= st.queues.pending() {
            inner.work.notify_one();
        } else {
            spawn_worker_locked(inner, st);
        }
    }
    entry.id
}

/// Workers that are not running an item: waiting for work, or started and
/// about to look for it.
fn available_workers(st: &State) -> usize {
    st.workers.threads - st.workers.busy
}

/// `IoTryQueueWorkItem`'s test: whether a worker can start one more item now.
/// When none can, a threaded executive starts a new worker (up to the cap)
/// for later work, as Windows does. An eager executive always can: it starts
/// a worker for the item if it must.
pub(crate) fn worker_free_now(inner: &Arc<Inner>, st: &mut State) -> bool {
    let free = match inner.mode {
        Mode::Manual => st.queues.pending() < st.workers.manual_idle,
        Mode::Threaded => available_workers(st) > st.queues.pending(),
        Mode::Eager => true,
    };
    if !free && inner.threaded() {
        spawn_worker_locked(inner, st);
    }
    free
}

/// The worker threads a threaded executive starts with: an idle system has
/// an idle worker (`IoTryQueueWorkItem` on it returns TRUE).
pub(crate) fn start_minimum_workers(inner: &Arc<Inner>) {
    if inner.threaded() {
        spawn_worker_locked(inner, &mut inner.lock());
    }
}

/// Eager mode: waits until the item numbered `id` has run, as if another
/// processor's worker took it at once; a legal interleaving on Windows that
/// makes "touched after it was handed over" deterministic. Does nothing on
/// other executives. An item that does not finish within the starvation
/// limit (its routine waits for something the queueing thread holds) is the
/// host diagnostic [`HOST_EAGER_WAIT_TIMEOUT`].
pub(crate) fn eager_wait(inner: &Inner, id: u64) {
    if inner.mode != Mode::Eager {
        return;
    }
    let started = Instant::now();
    let mut st = inner.lock();
    while st.bug_check.is_none() && st.queues.outstanding(id) {
        let limit = st.workers.starvation_limit;
        let waited = started.elapsed();
        if waited >= limit {
            let routine = st.queues.routine_of(id);
            let ms = usize::try_from(waited.as_millis()).unwrap_or(usize::MAX);
            let bad = BugCheck::new(HOST_EAGER_WAIT_TIMEOUT, [id as usize, routine, ms, 0]);
            inner.raise_locked(&mut st, bad);
            return;
        }
        st = inner.idle.wait_timeout(st, limit - waited).0;
    }
}

/// Starts one more worker thread unless the cap is reached.
fn spawn_worker_locked(inner: &Arc<Inner>, st: &mut State) {
    if st.workers.threads >= st.workers.max || st.workers.stop {
        return;
    }
    if st.workers.handles.is_empty() {
        let shared = Arc::clone(inner);
        let watchdog = std::thread::Builder::new()
            .name(String::from("worker-watchdog"))
            .spawn(move || watchdog(shared));
        if let Ok(handle) = watchdog {
            st.workers.handles.push((handle.thread().id(), handle));
        }
    }
    let shared = Arc::clone(inner);
    let n = st.workers.next_name;
    let spawned = std::thread::Builder::new()
        .name(format!("worker-{n}"))
        .spawn(move || worker(shared));
    if let Ok(handle) = spawned {
        st.workers.next_name += 1;
        st.workers.threads += 1;
        st.workers.handles.push((handle.thread().id(), handle));
    }
}

/// Takes the next item (the highest priority first, FIFO within one; with
/// `queue`, the first item of that queue type), removes it (`Flink = NULL`)
/// and registers it as running.
fn take_locked(inner: &Inner, st: &mut State, queue: Option<usize>) -> Option<Taken> {
    let (priority, position) = match queue {
        Some(index) => {
            let priority = priority_of(index);
            let position = st.queues.ready[priority]
                .iter()
                .position(|e| e.queue == index)?;
            (priority, position)
        }
        None => (
            (0..PRIORITIES)
                .rev()
                .find(|&p| !st.queues.ready[p].is_empty())?,
            0,
        ),
    };
    let entry = st.queues.ready[priority].remove(position)?;
    st.queues.queued.remove(&entry.item.addr());
    let item = entry.item.0;
    // A queued item stays valid until the worker removes it (the
    // ExQueueWorkItem contract; the pool refuses to free a queued one).
    // This is that removal: read the routine, then clear Flink.
    // SAFETY: `item` was queued until just now, so it is valid for reads.
    let routine = unsafe { (*item).WorkerRoutine };
    // SAFETY: `item` is still valid for reads (not yet removed).
    let parameter = unsafe { (*item).Parameter };
    // SAFETY: `item` points to a live `WORK_QUEUE_ITEM` whose `List` entry
    // is inline; `&raw mut` makes no reference.
    let flink = unsafe { &raw mut (*item).List.Flink };
    // SAFETY: `flink` is an aligned field of the item, which stays valid for
    // writes until this removal, done under the executive's lock.
    unsafe { flink.write(core::ptr::null_mut()) };
    // An Ex routine whose image is gone: the worker jumps into unmapped
    // memory, which the kernel reports as 0xCE (execute, at the routine).
    if image_gone(st, &entry) {
        let r = entry.routine;
        inner.raise_locked(
            st,
            BugCheck::new(
                DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
                [r, 8, r, 0],
            ),
        );
        return None;
    }
    st.queues.running.push(Running {
        id: entry.id,
        routine: entry.routine,
        thread: std::thread::current().id(),
    });
    Some(Taken {
        entry,
        routine,
        parameter,
    })
}

/// Whether `entry` is Ex work whose routine's image has been unmapped.
fn image_gone(st: &State, entry: &Entry) -> bool {
    entry.io_object == 0
        && entry
            .driver
            .is_some_and(|d| st.drivers[d].state == DriverState::Unmapped)
}

/// Runs a taken item at PASSIVE_LEVEL and makes the kernel's checks after it
/// returns, in the kernel's order (APCs disabled 0x01, then IRQL 0xE1);
/// leaves the thread at PASSIVE_LEVEL outside any critical region.
fn run_taken(inner: &Inner, taken: Taken) {
    irql::set_irql(PASSIVE_LEVEL);
    let previous = crate::panics::enter_routine(taken.entry.routine);
    // Whether the routine's last kernel call released a rundown: then what
    // is left of it in the image is its return (below).
    let mut left_at_release = false;
    if let Some(routine) = taken.routine {
        take_released_last();
        with_driver_context(inner, taken.entry.driver, || {
            // SAFETY: the routine and parameter were stored by the queueing
            // caller, who guarantees they form a valid call (the
            // ExInitializeWorkItem / ExQueueWorkItem contract).
            unsafe { routine(taken.parameter) };
            left_at_release = take_released_last();
        });
    }
    crate::panics::leave_routine(previous);
    let returned_at = irql::set_irql(PASSIVE_LEVEL);
    let critical = irql::reset_critical_region();
    let mut st = inner.lock();
    st.queues.running.retain(|r| r.id != taken.entry.id);
    inner.items_run.fetch_add(1, Ordering::SeqCst);
    let worker_routine = taken.entry.worker_routine;
    if critical != 0 {
        let combined = irql::combined_for(critical);
        inner.raise_locked(
            &mut st,
            BugCheck::new(APC_INDEX_MISMATCH, [worker_routine, 0, combined, 1]),
        );
    } else if returned_at != PASSIVE_LEVEL {
        let bad = BugCheck::new(
            WORKER_THREAD_RETURNED_AT_BAD_IRQL,
            [
                worker_routine,
                returned_at.into(),
                taken.parameter.addr(),
                taken.entry.item.addr(),
            ],
        );
        inner.raise_locked(&mut st, bad);
    } else if image_gone(&st, &taken.entry) && !left_at_release {
        // The image was unmapped while its Ex routine ran: the return lands
        // in unmapped code. Not after a routine whose last kernel call
        // released the rundown its unload waited for (ntwork's trampolines):
        // what runs of it in the image after the unload's wait returned is
        // its return, a few instructions against the unload path's
        // thousands, so the host takes it as done before the unmap (the
        // window README and design.md name; scenarios.md row 14).
        let r = taken.entry.routine;
        inner.raise_locked(
            &mut st,
            BugCheck::new(
                DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
                [r, 8, r, 0],
            ),
        );
    }
    inner.idle.notify_all();
}

/// Runs one item on the calling thread, bound to this executive.
pub(crate) fn run_next_here(inner: &Arc<Inner>, queue: Option<usize>) -> bool {
    let taken = {
        let mut st = inner.lock();
        if st.bug_check.is_some() {
            return false;
        }
        take_locked(inner, &mut st, queue)
    };
    let Some(taken) = taken else { return false };
    let previous_binding = bind(Some(Arc::clone(inner)));
    let caller_irql = irql::current_irql();
    let caller_critical = irql::reset_critical_region();
    run_taken(inner, taken);
    irql::set_irql(caller_irql);
    irql::restore_critical_region(caller_critical);
    bind(previous_binding);
    true
}

/// For a wait that only work can end, on a manual executive where no other
/// thread runs a routine: the items pending, if items are pending (nothing
/// runs them while this thread waits) or this thread waits inside a routine
/// (run by `run_next` / `run_until_idle`: the test's code that would go on
/// on Windows, while a worker waits, is stuck under this call). The wait
/// would never end.
pub(crate) fn manual_wait_blocks(inner: &Inner) -> Option<usize> {
    let me = std::thread::current().id();
    let st = inner.lock();
    let mine = st.queues.running.iter().filter(|r| r.thread == me).count();
    let others = st.queues.running.len() - mine;
    (!inner.threaded() && others == 0 && (st.queues.pending() > 0 || mine > 0))
        .then(|| st.queues.pending())
}

/// Blocks until no item is pending and no routine runs, or a bug check stops
/// the executive. On a manual executive it only waits for routines that other
/// threads are running with `run_next`.
pub(crate) fn wait_idle(inner: &Inner) {
    let mut st = inner.lock();
    while st.bug_check.is_none()
        && (!st.queues.running.is_empty() || (inner.threaded() && st.queues.pending() > 0))
    {
        st = inner.idle.wait(st);
    }
}

/// Stops the workers and joins them (except the calling thread).
pub(crate) fn stop_workers(inner: &Inner) {
    let handles = {
        let mut st = inner.lock();
        st.workers.stop = true;
        inner.wake_all();
        core::mem::take(&mut st.workers.handles)
    };
    let me = std::thread::current().id();
    for (id, handle) in handles {
        if id != me {
            let _ = handle.join();
        }
    }
}

/// A worker thread: takes the highest-priority item of any queue; exits
/// after `idle_timeout` without work unless it is the last worker.
fn worker(inner: Arc<Inner>) {
    bind(Some(Arc::clone(&inner)));
    loop {
        let taken = {
            let mut st = inner.lock();
            loop {
                if st.workers.stop || st.bug_check.is_some() {
                    st.workers.threads -= 1;
                    bind(None);
                    return;
                }
                if let Some(taken) = take_locked(&inner, &mut st, None) {
                    st.workers.busy += 1;
                    break taken;
                }
                if st.bug_check.is_some() {
                    continue;
                }
                st.workers.idle += 1;
                let timeout = st.workers.idle_timeout;
                let (guard, timed_out) = inner.work.wait_timeout(st, timeout);
                st = guard;
                st.workers.idle -= 1;
                if timed_out && st.queues.pending() == 0 && st.workers.threads > 1 {
                    st.workers.threads -= 1;
                    bind(None);
                    return;
                }
            }
        };
        run_taken(&inner, taken);
        inner.lock().workers.busy -= 1;
    }
}

/// Reports work that no worker could take for `starvation_limit` while all
/// workers (at the cap) were busy.
fn watchdog(inner: Arc<Inner>) {
    let mut starved_since: Option<Instant> = None;
    let mut st = inner.lock();
    loop {
        if st.workers.stop || st.bug_check.is_some() {
            return;
        }
        let starved =
            st.queues.pending() > 0 && st.workers.idle == 0 && st.workers.threads >= st.workers.max;
        if !starved {
            starved_since = None;
        } else if let Some(since) = starved_since {
            let waited = since.elapsed();
            if waited >= st.workers.starvation_limit {
                let oldest = st.queues.entries().next().map_or(0, |e| e.routine);
                let diagnostic = BugCheck::new(
                    HOST_WORKER_STARVATION,
                    [
                        st.queues.pending(),
                        st.workers.threads,
                        oldest,
                        usize::try_from(waited.as_millis()).unwrap_or(usize::MAX),
                    ],
                );
                inner.raise_locked(&mut st, diagnostic);
                return;
            }
        } else {
            starved_since = Some(Instant::now());
        }
        let tick = (st.workers.starvation_limit / 8)
            .clamp(Duration::from_millis(1), Duration::from_millis(50));
        st = inner.idle.wait_timeout(st, tick).0;
    }
}
