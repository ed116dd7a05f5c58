//! The executive: worker queues, worker threads, the thread binding, and the
//! bug-check state.

use core::cell::Cell;
use core::ffi::c_void;
use core::fmt;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::format;
use std::io::Write as _;
use std::string::String;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::sync::{Condvar, Mutex, MutexGuard};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};
use std::vec::Vec;

use ntwork_sys::{self as ffi, PASSIVE_LEVEL, WORK_QUEUE_TYPE};

use crate::binding::{EnterGuard, bind};
use crate::bugcheck::{
    APC_INDEX_MISMATCH, BugCheck, DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
    HOST_WORKER_STARVATION, WORKER_THREAD_RETURNED_AT_BAD_IRQL,
};
use crate::drivers::{self, Driver};
use crate::faults::{FailurePlan, FaultSite, Faults};
use crate::irql;

/// Thread priorities 0..=31: one FIFO list each, as in the Windows 8+ worker
/// pool's priority queue.
const PRIORITIES: usize = 32;

/// A Windows release the executive behaves as; it decides which queue types
/// and functions exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum WindowsVersion {
    /// Windows 7: Critical, Delayed and HyperCritical queues only; no
    /// `IoTryQueueWorkItem`, no `ExAllocatePool2`.
    Windows7,
    /// Windows 8: Normal, Background, RealTime and SuperCritical queues and
    /// `IoTryQueueWorkItem`.
    Windows8,
    /// Windows 8.1: custom priority queues (`CustomPriorityWorkQueue + p`).
    Windows81,
    /// Windows 10 (2004 and later: `ExAllocatePool2`).
    Windows10,
    /// Windows 11.
    Windows11,
}

impl WindowsVersion {
    /// `0x0601`, `0x0602`, `0x0603`, `0x0A00`, `0x0A01` (the host's number for
    /// 11, which shares 10's `_WIN32_WINNT`): parameter 2 of
    /// [`HOST_NOT_IN_TARGET`](crate::bugcheck::HOST_NOT_IN_TARGET).
    pub fn number(self) -> usize {
        match self {
            Self::Windows7 => 0x0601,
            Self::Windows8 => 0x0602,
            Self::Windows81 => 0x0603,
            Self::Windows10 => 0x0A00,
            Self::Windows11 => 0x0A01,
        }
    }
}

/// The index of a `WORK_QUEUE_TYPE` the kernel of `target` accepts: `0..=6`
/// and `32..=63` on Windows 8.1 and later; `0..=2` on Windows 7 (its
/// `MaximumWorkQueue` was 3); no custom queues before 8.1.
pub(crate) fn queue_index_on(target: WindowsVersion, queue_type: WORK_QUEUE_TYPE) -> Option<usize> {
    match queue_type {
        0..=2 => Some(queue_type as usize),
        3..=6 if target >= WindowsVersion::Windows8 => Some(queue_type as usize),
        32..=63 if target >= WindowsVersion::Windows81 => Some((queue_type - 32) as usize + 7),
        _ => None,
    }
}

/// The index of a queue type on the newest target (for the test API).
pub(crate) fn queue_index(queue_type: WORK_QUEUE_TYPE) -> Option<usize> {
    queue_index_on(WindowsVersion::Windows11, queue_type)
}

/// The thread priority of a queue's workers (the documented values: Critical
/// 13, Delayed 12, HyperCritical 15, Normal 8, Background 7, RealTime 18,
/// SuperCritical 14; custom `32 + p` runs at `p`).
fn priority_of(index: usize) -> usize {
    const FIXED: [usize; 7] = [13, 12, 15, 8, 7, 18, 14];
    FIXED
        .get(index)
        .copied()
        .unwrap_or_else(|| index - FIXED.len())
}

/// Default cap on worker threads of a threaded executive.
const DEFAULT_MAX_WORKERS: usize = 64;
/// An idle worker beyond the first exits after this long without work.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_millis(500);
/// Pending work that no worker could take for this long is reported.
const DEFAULT_STARVATION_LIMIT: Duration = Duration::from_secs(10);

/// A queued `WORK_QUEUE_ITEM`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The `WORK_QUEUE_ITEM` (for Io items, the one inside the `IO_WORKITEM`).
    pub(crate) item: usize,
    /// Index of its queue type (see [`queue_index`]).
    queue: usize,
    /// The `WorkerRoutine` the worker calls (for Io items, the kernel's Io
    /// trampoline): parameter 1 of 0xE1.
    pub(crate) worker_routine: usize,
    /// The driver's routine: `WorkerRoutine`, or the Io item's routine.
    pub(crate) routine: usize,
    /// The referenced device (or driver) object of Io work; 0 for Ex work.
    pub(crate) io_object: usize,
    /// The driver whose image holds the routine (the queueing driver for Ex
    /// work, the object's driver for Io work), if known.
    pub(crate) driver: Option<usize>,
}

impl Entry {
    /// An entry for a queue call; `enqueue_locked` fills in the item and queue.
    pub(crate) fn new(
        worker_routine: usize,
        routine: usize,
        io_object: usize,
        driver: Option<usize>,
    ) -> Self {
        Self {
            item: 0,
            queue: 0,
            worker_routine,
            routine,
            io_object,
            driver,
        }
    }
}

/// A routine being run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Running {
    id: u64,
}

/// An item taken off a queue, ready to run.
struct Taken {
    id: u64,
    entry: Entry,
    routine: ffi::PWORKER_THREAD_ROUTINE,
    parameter: *mut c_void,
}

/// Kind of a host kernel object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    Driver,
    Device,
}

/// A DRIVER_OBJECT or DEVICE_OBJECT the executive made.
#[derive(Debug)]
pub(crate) struct ObjectRec {
    pub(crate) kind: ObjectKind,
    /// Index of the owning driver in `State::drivers`.
    pub(crate) driver: usize,
    /// The object manager's pointer count: 1 from creation (dropped by
    /// `IoDeleteDevice` / after DriverUnload), one per queued or running Io
    /// item, one per `ObfReferenceObject`, and for a driver object one per
    /// device that still exists. The object is freed when it reaches 0.
    pub(crate) refs: usize,
    /// `IoDeleteDevice` was called (devices only).
    pub(crate) deleted: bool,
}

/// Where a driver is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DriverState {
    Loaded,
    /// DriverUnload has run; the image stays mapped while its driver object
    /// is referenced.
    Unloaded,
    /// The last reference to the driver object dropped: the image is gone.
    Unmapped,
}

/// A loaded driver.
#[derive(Debug)]
pub(crate) struct DriverRec {
    pub(crate) name: Arc<str>,
    pub(crate) object: usize,
    pub(crate) state: DriverState,
}

/// An `IO_WORKITEM` the executive knows.
#[derive(Debug)]
pub(crate) struct IoRec {
    pub(crate) io_object: usize,
    /// The driver of the object, for the leak check at unmap.
    pub(crate) driver: usize,
    /// From `IoAllocateWorkItem` (else `IoInitializeWorkItem`).
    pub(crate) allocated: bool,
}

/// Everything behind the executive's lock.
pub(crate) struct State {
    /// Ready items by thread priority: the highest non-empty list is served
    /// first, FIFO within one priority (shared by queue types of equal priority).
    ready: Vec<VecDeque<Entry>>,
    /// Addresses of queued `WORK_QUEUE_ITEM`s.
    pub(crate) queued: BTreeSet<usize>,
    pub(crate) running: Vec<Running>,
    next_id: u64,
    pub(crate) bug_check: Option<BugCheck>,
    stop: bool,
    pub(crate) io_items: HashMap<usize, IoRec>,
    pub(crate) objects: HashMap<usize, ObjectRec>,
    /// Objects freed (pointer count reached 0): a later dereference is 0x18.
    pub(crate) freed: BTreeSet<usize>,
    pub(crate) drivers: Vec<DriverRec>,
    pub(crate) faults: Faults,
    pub(crate) target: WindowsVersion,
    pub(crate) verifier: bool,
    /// Worker threads alive, and how many of them wait for work.
    threads: usize,
    idle: usize,
    max_workers: usize,
    idle_timeout: Duration,
    starvation_limit: Duration,
    /// Manual mode: workers `IoTryQueueWorkItem` may count on being idle.
    manual_idle_workers: usize,
    workers: Vec<(ThreadId, JoinHandle<()>)>,
    next_worker: usize,
}

impl State {
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.ready.iter().flatten()
    }

    pub(crate) fn pending(&self) -> usize {
        self.ready.iter().map(VecDeque::len).sum()
    }

    /// Whether an idle worker can start one more item now.
    fn idle_worker_free(&self, threaded: bool) -> bool {
        if threaded {
            self.idle > self.pending()
        } else {
            self.pending() < self.manual_idle_workers
        }
    }

    /// The driver whose code is running or calling on this thread: the
    /// thread's driver context (a routine of the driver, or
    /// [`Driver::run`](crate::Driver::run)), else the only loaded driver.
    pub(crate) fn calling_driver(&self, inner: &Inner) -> Option<usize> {
        let context = DRIVER_CONTEXT
            .try_with(Cell::get)
            .ok()
            .flatten()
            .filter(|&(executive, _)| executive == inner as *const Inner as usize)
            .map(|(_, driver)| driver);
        context.or_else(|| {
            let mut loaded = self
                .drivers
                .iter()
                .enumerate()
                .filter(|(_, d)| d.state == DriverState::Loaded);
            match (loaded.next(), loaded.next()) {
                (Some((index, _)), None) => Some(index),
                _ => None,
            }
        })
    }
}

std::thread_local! {
    /// (executive, driver index) of the driver code running on this thread.
    static DRIVER_CONTEXT: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

/// Runs `f` as code of `driver` (its Ex work and pool are attributed to it).
pub(crate) fn with_driver_context<T>(
    inner: &Inner,
    driver: Option<usize>,
    f: impl FnOnce() -> T,
) -> T {
    struct Restore(Option<(usize, usize)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = DRIVER_CONTEXT.try_with(|c| c.set(self.0));
        }
    }
    let new = driver.map(|d| (inner as *const Inner as usize, d));
    let _restore = Restore(DRIVER_CONTEXT.try_with(|c| c.replace(new)).ok().flatten());
    f()
}

/// The shared part of an executive.
pub(crate) struct Inner {
    threaded: bool,
    state: Mutex<State>,
    /// Signalled once per item queued (one idle worker wakes), and to all on
    /// stop and on bug check.
    work: Condvar,
    /// Signalled when the last running routine finishes, on stop and on bug check.
    idle: Condvar,
    items_run: AtomicU64,
    /// The owning `Executive` was dropped.
    closed: AtomicBool,
}

impl Inner {
    fn new(threaded: bool) -> Arc<Self> {
        Arc::new(Self {
            threaded,
            state: Mutex::new(State {
                ready: (0..PRIORITIES).map(|_| VecDeque::new()).collect(),
                queued: BTreeSet::new(),
                running: Vec::new(),
                next_id: 0,
                bug_check: None,
                stop: false,
                io_items: HashMap::new(),
                objects: HashMap::new(),
                freed: BTreeSet::new(),
                drivers: Vec::new(),
                faults: Faults::new(),
                target: WindowsVersion::Windows11,
                verifier: false,
                threads: 0,
                idle: 0,
                max_workers: DEFAULT_MAX_WORKERS,
                idle_timeout: DEFAULT_IDLE_TIMEOUT,
                starvation_limit: DEFAULT_STARVATION_LIMIT,
                manual_idle_workers: 1,
                workers: Vec::new(),
                next_worker: 0,
            }),
            work: Condvar::new(),
            idle: Condvar::new(),
            items_run: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        })
    }

    /// The state; a panic elsewhere never makes it unusable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Records `bug_check` unless one is recorded already; stops dispatch.
    pub(crate) fn raise(&self, bug_check: BugCheck) {
        let mut st = self.lock();
        self.raise_locked(&mut st, bug_check);
    }

    pub(crate) fn raise_locked(&self, st: &mut State, bug_check: BugCheck) {
        if st.bug_check.is_some() {
            return;
        }
        st.bug_check = Some(bug_check);
        // Never panics, unlike eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "*** STOP (ntwork host executive): {bug_check}"
        );
        self.wake_all();
    }

    /// Wakes every worker and every waiter, for stop and bug check.
    fn wake_all(&self) {
        self.work.notify_all();
        self.idle.notify_all();
    }

    /// The queue index of `queue_type` on this executive's target.
    pub(crate) fn queue_index(&self, st: &State, queue_type: WORK_QUEUE_TYPE) -> Option<usize> {
        queue_index_on(st.target, queue_type)
    }

    /// Queues a validated item: marks it queued (`Flink` non-NULL), and wakes
    /// an idle worker or starts a new one (up to the cap), as the Windows 8+
    /// pool does when no worker is idle.
    ///
    /// # Safety
    ///
    /// `item` is valid for reads and writes until it is dequeued.
    pub(crate) unsafe fn enqueue_locked(
        self: &Arc<Self>,
        st: &mut State,
        item: *mut ffi::WORK_QUEUE_ITEM,
        mut entry: Entry,
        index: usize,
    ) {
        // SAFETY: the caller guarantees `item` is valid for writes; a
        // self-linked entry is non-NULL, which is all "queued" means to callers.
        unsafe {
            let list = &raw mut (*item).List;
            (&raw mut (*list).Flink).write(list);
            (&raw mut (*list).Blink).write(list);
        }
        entry.item = item as usize;
        entry.queue = index;
        st.ready[priority_of(index)].push_back(entry);
        st.queued.insert(item as usize);
        if self.threaded {
            if st.idle >= st.pending() {
                self.work.notify_one();
            } else {
                self.spawn_worker_locked(st);
            }
        }
    }

    /// `IoTryQueueWorkItem`'s test: whether an idle worker can start one more
    /// item now. When none can, a threaded executive starts a new worker (up
    /// to the cap) for later work, as Windows does.
    pub(crate) fn idle_worker_free(self: &Arc<Self>, st: &mut State) -> bool {
        let free = st.idle_worker_free(self.threaded);
        if !free && self.threaded {
            self.spawn_worker_locked(st);
        }
        free
    }

    /// Starts one more worker thread unless the cap is reached.
    fn spawn_worker_locked(self: &Arc<Self>, st: &mut State) {
        if st.threads >= st.max_workers || st.stop {
            return;
        }
        if st.workers.is_empty() {
            let inner = Arc::clone(self);
            let watchdog = std::thread::Builder::new()
                .name(String::from("worker-watchdog"))
                .spawn(move || watchdog(inner));
            if let Ok(handle) = watchdog {
                st.workers.push((handle.thread().id(), handle));
            }
        }
        let inner = Arc::clone(self);
        let n = st.next_worker;
        let spawned = std::thread::Builder::new()
            .name(format!("worker-{n}"))
            .spawn(move || worker(inner));
        if let Ok(handle) = spawned {
            st.next_worker += 1;
            st.threads += 1;
            st.workers.push((handle.thread().id(), handle));
        }
    }

    /// Takes the next item (the highest priority first, FIFO within one;
    /// with `queue`, the first item of that queue type), removes it
    /// (`Flink = NULL`) and registers it as running.
    fn take_locked(&self, st: &mut State, queue: Option<usize>) -> Option<Taken> {
        let (priority, position) = match queue {
            Some(index) => {
                let priority = priority_of(index);
                let position = st.ready[priority].iter().position(|e| e.queue == index)?;
                (priority, position)
            }
            None => ((0..PRIORITIES).rev().find(|&p| !st.ready[p].is_empty())?, 0),
        };
        let entry = st.ready[priority].remove(position)?;
        st.queued.remove(&entry.item);
        let item = entry.item as *mut ffi::WORK_QUEUE_ITEM;
        // SAFETY: a queued item stays valid until the worker removes it (the
        // ExQueueWorkItem contract; pool_free refuses to free a queued one).
        // This is that removal: read the routine, then clear Flink.
        let (routine, parameter) = unsafe {
            let read = ((*item).WorkerRoutine, (*item).Parameter);
            (&raw mut (*item).List.Flink).write(core::ptr::null_mut());
            read
        };
        // An Ex routine whose image is gone: the worker jumps into unmapped
        // memory, which the kernel reports as 0xCE (execute, at the routine).
        if entry.io_object == 0
            && entry
                .driver
                .is_some_and(|d| st.drivers[d].state == DriverState::Unmapped)
        {
            let r = entry.routine;
            self.raise_locked(
                st,
                BugCheck::new(
                    DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
                    [r, 8, r, 0],
                ),
            );
            return None;
        }
        st.next_id = st.next_id.wrapping_add(1);
        let id = st.next_id;
        st.running.push(Running { id });
        Some(Taken {
            id,
            entry,
            routine,
            parameter,
        })
    }

    /// Runs a taken item at PASSIVE_LEVEL and makes the kernel's checks after
    /// it returns, in the kernel's order (APCs disabled 0x01, then IRQL 0xE1);
    /// leaves the thread at PASSIVE_LEVEL outside any critical region.
    fn run_taken(&self, taken: Taken) {
        irql::set_irql(PASSIVE_LEVEL);
        let previous = crate::panics::enter_routine(taken.entry.routine);
        if let Some(routine) = taken.routine {
            with_driver_context(self, taken.entry.driver, || {
                // SAFETY: the routine and parameter were stored by the queueing
                // caller, who guarantees they form a valid call (the
                // ExInitializeWorkItem / ExQueueWorkItem contract).
                unsafe { routine(taken.parameter) }
            });
        }
        crate::panics::leave_routine(previous);
        let returned_at = irql::set_irql(PASSIVE_LEVEL);
        let critical = irql::reset_critical_region();
        let mut st = self.lock();
        st.running.retain(|r| r.id != taken.id);
        self.items_run.fetch_add(1, Ordering::SeqCst);
        let worker_routine = taken.entry.worker_routine;
        if critical != 0 {
            // KernelApcDisable counts down from 0, so it reads negative.
            let disable = (-i64::from(critical)) as usize;
            self.raise_locked(
                &mut st,
                BugCheck::new(APC_INDEX_MISMATCH, [worker_routine, 0, disable, 1]),
            );
        } else if returned_at != PASSIVE_LEVEL {
            self.raise_locked(
                &mut st,
                BugCheck::new(
                    WORKER_THREAD_RETURNED_AT_BAD_IRQL,
                    [
                        worker_routine,
                        returned_at.into(),
                        taken.parameter as usize,
                        taken.entry.item,
                    ],
                ),
            );
        } else if taken.entry.io_object == 0
            && taken
                .entry
                .driver
                .is_some_and(|d| st.drivers[d].state == DriverState::Unmapped)
        {
            // The image was unmapped while its Ex routine ran: the return
            // lands in unmapped code.
            let r = taken.entry.routine;
            self.raise_locked(
                &mut st,
                BugCheck::new(
                    DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS,
                    [r, 8, r, 0],
                ),
            );
        }
        // Only the last routine to finish can make the executive idle: taking an
        // item marks it running before it leaves its queue.
        if st.running.is_empty() {
            self.idle.notify_all();
        }
    }

    /// Runs one item on the calling thread, bound to this executive.
    fn run_next_here(self: &Arc<Self>, queue: Option<usize>) -> bool {
        let taken = {
            let mut st = self.lock();
            if st.bug_check.is_some() {
                return false;
            }
            self.take_locked(&mut st, queue)
        };
        let Some(taken) = taken else { return false };
        let previous_binding = bind(Some(Arc::clone(self)));
        let caller_irql = irql::current_irql();
        let caller_critical = irql::reset_critical_region();
        self.run_taken(taken);
        irql::set_irql(caller_irql);
        irql::restore_critical_region(caller_critical);
        bind(previous_binding);
        true
    }

    /// For a wait that only work can end: on a manual executive where no
    /// routine runs and items are pending, the items pending (the wait would
    /// never end, since nothing runs them while this thread waits).
    pub(crate) fn manual_wait_blocks(&self) -> Option<usize> {
        let st = self.lock();
        (!self.threaded && st.running.is_empty() && st.pending() > 0).then(|| st.pending())
    }

    /// Whether the owning `Executive` was dropped.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Whether a bug check stopped this executive.
    pub(crate) fn bug_check_recorded(&self) -> bool {
        self.lock().bug_check.is_some()
    }

    pub(crate) fn is_same(&self, other: &Arc<Inner>) -> bool {
        core::ptr::eq(self, Arc::as_ptr(other))
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
                if st.stop || st.bug_check.is_some() {
                    st.threads -= 1;
                    bind(None);
                    return;
                }
                if let Some(taken) = inner.take_locked(&mut st, None) {
                    break taken;
                }
                if st.bug_check.is_some() {
                    continue;
                }
                st.idle += 1;
                let timeout = st.idle_timeout;
                let (guard, timed_out) = inner.work.wait_timeout(st, timeout);
                st = guard;
                st.idle -= 1;
                if timed_out && st.pending() == 0 && st.threads > 1 {
                    st.threads -= 1;
                    bind(None);
                    return;
                }
            }
        };
        inner.run_taken(taken);
    }
}

/// Reports work that no worker could take for `starvation_limit` while all
/// workers (at the cap) were busy.
fn watchdog(inner: Arc<Inner>) {
    let mut starved_since: Option<Instant> = None;
    let mut st = inner.lock();
    loop {
        if st.stop || st.bug_check.is_some() {
            return;
        }
        let starved = st.pending() > 0 && st.idle == 0 && st.threads >= st.max_workers;
        if !starved {
            starved_since = None;
        } else if let Some(since) = starved_since {
            let waited = since.elapsed();
            if waited >= st.starvation_limit {
                let oldest = st.entries().next().map_or(0, |e| e.routine);
                let diagnostic = BugCheck::new(
                    HOST_WORKER_STARVATION,
                    [
                        st.pending(),
                        st.threads,
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
        let tick =
            (st.starvation_limit / 8).clamp(Duration::from_millis(1), Duration::from_millis(50));
        st = inner.idle.wait_timeout(st, tick).0;
    }
}

/// A host executive: the kernel's system worker threads, drivers and devices,
/// pool, IRQL checks and bug checks, for one test.
///
/// The exported kernel functions (`ExQueueWorkItem`, `IoAllocateWorkItem`,
/// ...) and ntwork's pool act on the executive *bound to the calling thread*:
/// [`new`](Self::new) and [`manual`](Self::manual) bind the creating thread,
/// [`enter`](Self::enter) binds another one, and worker threads are bound to
/// their executive. So tests running in parallel do not see each other's
/// work. A kernel call from a thread bound to no executive aborts the process
/// with a message that names [`Executive::enter`]: it is never dropped.
///
/// A misuse the kernel answers with a bug check is recorded as a [`BugCheck`]
/// (the first one wins, from any thread), printed once to stderr, and stops the
/// executive: nothing more is dispatched and later exported calls do nothing.
pub struct Executive {
    inner: Arc<Inner>,
    /// The thread this executive bound at creation, and its previous binding.
    binding: Option<(ThreadId, Option<Arc<Inner>>)>,
}

impl Executive {
    fn bound_new(threaded: bool) -> Self {
        crate::panics::install_hook();
        let inner = Inner::new(threaded);
        let previous = bind(Some(Arc::clone(&inner)));
        Self {
            inner,
            binding: Some((std::thread::current().id(), previous)),
        }
    }

    /// A threaded executive, shaped like the Windows 8+ worker pool: one
    /// priority queue (the highest thread priority first, FIFO within one),
    /// worker threads started on demand when no worker is idle, up to a cap
    /// ([`set_max_workers`](Self::set_max_workers), default 64), idle extras
    /// exiting after a while, and a watchdog that reports starvation
    /// ([`set_starvation_limit`](Self::set_starvation_limit)) instead of
    /// hanging. Binds the calling thread.
    pub fn new() -> Executive {
        Self::bound_new(true)
    }

    /// A deterministic executive: nothing runs until the test calls
    /// [`run_next`](Self::run_next) or [`run_until_idle`](Self::run_until_idle).
    /// Binds the calling thread.
    pub fn manual() -> Executive {
        Self::bound_new(false)
    }

    /// Binds the calling thread to this executive (for threads a test spawns);
    /// the previous binding comes back when the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard::new(bind(Some(Arc::clone(&self.inner))))
    }

    /// Whether this executive has worker threads (else it is manual).
    pub fn is_threaded(&self) -> bool {
        self.inner.threaded
    }

    /// Runs the next pending item on the calling thread, as a worker would
    /// (the highest thread priority first, FIFO within one priority): at
    /// PASSIVE_LEVEL, with the thread bound to this executive for the call.
    /// `false` if nothing is pending or the executive is bug-checked.
    pub fn run_next(&self) -> bool {
        self.inner.run_next_here(None)
    }

    /// As [`run_next`](Self::run_next), the first item queued with
    /// `queue_type` only.
    pub fn run_next_in(&self, queue_type: WORK_QUEUE_TYPE) -> bool {
        match queue_index(queue_type) {
            Some(index) => self.inner.run_next_here(Some(index)),
            None => false,
        }
    }

    /// Manual: runs items until none is pending (items queued by routines run
    /// too) or a bug check stops it; returns how many ran. Threaded: waits as
    /// [`wait_idle`](Self::wait_idle) does and returns how many items ran
    /// meanwhile.
    pub fn run_until_idle(&self) -> usize {
        if self.inner.threaded {
            let before = self.items_run();
            self.wait_idle();
            usize::try_from(self.items_run().wrapping_sub(before)).unwrap_or(usize::MAX)
        } else {
            let mut ran = 0;
            while self.run_next() {
                ran += 1;
            }
            ran
        }
    }

    /// Blocks until no item is pending and no routine runs, or a bug check
    /// stops the executive. On a manual executive it only waits for routines
    /// that other threads are running with `run_next`. Must not be called from
    /// a routine of this executive (it would wait for itself).
    pub fn wait_idle(&self) {
        let inner = &self.inner;
        let mut st = inner.lock();
        while st.bug_check.is_none()
            && (!st.running.is_empty() || (inner.threaded && st.pending() > 0))
        {
            st = inner.idle.wait(st);
        }
    }

    /// Items queued and not yet taken by a worker, in all queues.
    pub fn pending(&self) -> usize {
        self.inner.lock().pending()
    }

    /// Items pending in the queue `queue_type`.
    pub fn pending_in(&self, queue_type: WORK_QUEUE_TYPE) -> usize {
        queue_index(queue_type).map_or(0, |index| {
            self.inner
                .lock()
                .entries()
                .filter(|e| e.queue == index)
                .count()
        })
    }

    /// Routines that ran to completion.
    pub fn items_run(&self) -> u64 {
        self.inner.items_run.load(Ordering::SeqCst)
    }

    /// The bug check that stopped this executive, if any.
    pub fn bug_check(&self) -> Option<BugCheck> {
        self.inner.lock().bug_check
    }

    /// The bug check that stopped this executive.
    ///
    /// # Panics
    ///
    /// If there is none (for tests that expect one).
    #[track_caller]
    pub fn expect_bug_check(&self) -> BugCheck {
        match self.bug_check() {
            Some(bug_check) => bug_check,
            None => panic!(
                "expected a bug check, but the executive ran cleanly ({} items run, {} pending)",
                self.items_run(),
                self.pending()
            ),
        }
    }

    /// The Windows release this executive behaves as (default: Windows 11).
    /// Queue types and functions the release lacks are rejected as its
    /// kernel or loader would.
    pub fn set_target(&self, target: WindowsVersion) {
        self.inner.lock().target = target;
    }

    /// Turns Driver Verifier's checks on or off (default off): where Windows
    /// raises a bug check only under Driver Verifier (e.g. 0xE4/0 when pool
    /// holding a queued item is freed), the host does too.
    pub fn set_driver_verifier(&self, enabled: bool) {
        self.inner.lock().verifier = enabled;
    }

    /// The cap on worker threads of a threaded executive (default 64, at
    /// least 1).
    pub fn set_max_workers(&self, max: usize) {
        self.inner.lock().max_workers = max.max(1);
    }

    /// How long an idle worker beyond the last one waits for work before it
    /// exits (default 500 ms).
    pub fn set_worker_idle_timeout(&self, timeout: Duration) {
        self.inner.lock().idle_timeout = timeout;
    }

    /// How long work may wait while every worker (at the cap) is busy before
    /// the host reports [`HOST_WORKER_STARVATION`](crate::bugcheck::HOST_WORKER_STARVATION)
    /// (default 10 s).
    pub fn set_starvation_limit(&self, limit: Duration) {
        self.inner.lock().starvation_limit = limit;
    }

    /// Manual mode: how many idle workers `IoTryQueueWorkItem` may count on
    /// (default 1). It returns `FALSE` when that many items are pending
    /// already, as Windows does when no worker is idle.
    pub fn set_idle_workers(&self, idle: usize) {
        self.inner.lock().manual_idle_workers = idle;
    }

    /// Worker threads alive now (threaded mode).
    pub fn worker_threads(&self) -> usize {
        self.inner.lock().threads
    }

    /// Whether the image of the driver loaded as `name` is mapped: from
    /// [`load_driver`](Self::load_driver) until the last reference to its
    /// driver object drops after [`Driver::unload`](crate::Driver::unload).
    pub fn is_image_mapped(&self, name: &str) -> bool {
        self.inner
            .lock()
            .drivers
            .iter()
            .any(|d| &*d.name == name && d.state != DriverState::Unmapped)
    }

    /// Loads a fake driver: a DRIVER_OBJECT owned by this executive.
    pub fn load_driver(&self, name: &str) -> Driver {
        drivers::load(&self.inner, name)
    }

    /// Makes calls at `site` fail according to `plan` (Driver Verifier's Low
    /// Resources Simulation). Replaces the site's previous plan.
    pub fn fail_allocations(&self, site: FaultSite, plan: FailurePlan) {
        self.inner.lock().faults.set(site, plan);
    }

    /// Pool blocks allocated through this executive and not freed (of every
    /// driver).
    pub fn pool_outstanding(&self) -> usize {
        crate::pool::owned_by(&self.inner)
    }

    /// `IO_WORKITEM`s allocated (`IoAllocateWorkItem`) or initialized
    /// (`IoInitializeWorkItem`) and not yet freed or uninitialized.
    pub fn io_work_items_outstanding(&self) -> usize {
        self.inner.lock().io_items.len()
    }
}

impl Default for Executive {
    /// [`Executive::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Executive {
    /// Threaded: waits until idle (unless bug-checked), then stops and joins
    /// the workers. Pending items of a manual executive never run. Restores
    /// the creating thread's previous binding if dropped on that thread.
    fn drop(&mut self) {
        if self.inner.threaded {
            self.wait_idle();
        }
        let workers = {
            let mut st = self.inner.lock();
            st.stop = true;
            self.inner.wake_all();
            core::mem::take(&mut st.workers)
        };
        let me = std::thread::current().id();
        for (id, handle) in workers {
            if id != me {
                let _ = handle.join();
            }
        }
        self.inner.closed.store(true, Ordering::SeqCst);
        if let Some((thread, previous)) = self.binding.take()
            && thread == me
            && crate::binding::is_bound_to(&self.inner)
        {
            bind(previous.filter(|p| !p.is_closed()));
        }
    }
}

impl fmt::Debug for Executive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.lock();
        f.debug_struct("Executive")
            .field("threaded", &self.inner.threaded)
            .field("pending", &st.pending())
            .field("running", &st.running.len())
            .field("items_run", &self.items_run())
            .field("bug_check", &st.bug_check)
            .finish()
    }
}
