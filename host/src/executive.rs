//! The executive: worker queues, worker threads, the thread binding, and the
//! bug-check state.

use core::cell::RefCell;
use core::ffi::c_void;
use core::fmt;
use core::marker::PhantomData;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::format;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{JoinHandle, ThreadId};
use std::vec::Vec;

use ntwork::ffi::{self, PASSIVE_LEVEL, WORK_QUEUE_TYPE};

use crate::bugcheck::{BugCheck, WORKER_THREAD_RETURNED_AT_BAD_IRQL};
use crate::drivers::{self, Driver};
use crate::faults::{FailurePlan, FaultSite, Faults};
use crate::irql;

/// Fixed queues 0..=6 (HyperCritical included), then the 32 custom priorities.
pub(crate) const QUEUE_COUNT: usize = 7 + 32;

/// The index of a `WORK_QUEUE_TYPE` the kernel accepts: `0..=6` and `32..=63`.
pub(crate) fn queue_index(queue_type: WORK_QUEUE_TYPE) -> Option<usize> {
    match queue_type {
        0..=6 => Some(queue_type as usize),
        32..=63 => Some((queue_type - 32) as usize + 7),
        _ => None,
    }
}

/// The thread-name stem of a queue's workers, as `!thread` would show the queue.
fn queue_name(index: usize) -> String {
    const FIXED: [&str; 7] = [
        "critical",
        "delayed",
        "hypercritical",
        "normal",
        "background",
        "realtime",
        "supercritical",
    ];
    match FIXED.get(index) {
        Some(name) => String::from(*name),
        None => format!("custom{}", index - FIXED.len()),
    }
}

/// Worker threads of a queue, like ReactOS's static pools: Critical 5,
/// Delayed 3, the other fixed queues 2, each custom priority 1.
fn workers_for(index: usize) -> usize {
    match index {
        0 => 5,
        1 => 3,
        2..=6 => 2,
        _ => 1,
    }
}

/// A queued `WORK_QUEUE_ITEM`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The `WORK_QUEUE_ITEM` (for Io items, the one inside the `IO_WORKITEM`).
    pub(crate) item: usize,
    seq: u64,
    /// The routine to report: `WorkerRoutine`, or the driver's Io routine.
    pub(crate) routine: usize,
    /// The referenced device (or driver) object of Io work; 0 for Ex work.
    pub(crate) io_object: usize,
}

/// A routine being run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Running {
    id: u64,
    pub(crate) routine: usize,
    pub(crate) io_object: usize,
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
    /// References held by queued or running Io work.
    pub(crate) refs: usize,
}

/// An `IO_WORKITEM` the executive knows.
#[derive(Debug)]
pub(crate) struct IoRec {
    pub(crate) io_object: usize,
    /// From `IoAllocateWorkItem` (else `IoInitializeWorkItem`).
    pub(crate) allocated: bool,
}

/// Everything behind the executive's lock.
pub(crate) struct State {
    queues: Vec<VecDeque<Entry>>,
    /// Addresses of queued `WORK_QUEUE_ITEM`s.
    pub(crate) queued: BTreeSet<usize>,
    seq: u64,
    pub(crate) running: Vec<Running>,
    next_id: u64,
    pub(crate) bug_check: Option<BugCheck>,
    stop: bool,
    pub(crate) io_items: HashMap<usize, IoRec>,
    pub(crate) objects: HashMap<usize, ObjectRec>,
    /// Drivers loaded so far (their indexes are `0..drivers`).
    pub(crate) drivers: usize,
    pub(crate) faults: Faults,
    spawned: [bool; QUEUE_COUNT],
    workers: Vec<(ThreadId, JoinHandle<()>)>,
}

impl State {
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.queues.iter().flatten()
    }

    fn pending(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }
}

/// The shared part of an executive.
pub(crate) struct Inner {
    threaded: bool,
    state: Mutex<State>,
    /// Per queue: signalled once per item queued there (one worker wakes),
    /// and to all on stop and on bug check.
    work: Vec<Condvar>,
    /// Signalled when the last running routine finishes, on stop and on bug check.
    idle: Condvar,
    items_run: AtomicU64,
    /// The owning `Executive` was dropped: threads still bound to it fall back
    /// to the global executive.
    closed: AtomicBool,
}

impl Inner {
    fn new(threaded: bool) -> Arc<Self> {
        Arc::new(Self {
            threaded,
            state: Mutex::new(State {
                queues: (0..QUEUE_COUNT).map(|_| VecDeque::new()).collect(),
                queued: BTreeSet::new(),
                seq: 0,
                running: Vec::new(),
                next_id: 0,
                bug_check: None,
                stop: false,
                io_items: HashMap::new(),
                objects: HashMap::new(),
                drivers: 0,
                faults: Faults::new(),
                spawned: [false; QUEUE_COUNT],
                workers: Vec::new(),
            }),
            work: (0..QUEUE_COUNT).map(|_| Condvar::new()).collect(),
            idle: Condvar::new(),
            items_run: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        })
    }

    /// The state; a panic elsewhere never makes it unusable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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
        self.work.iter().for_each(Condvar::notify_all);
        self.idle.notify_all();
    }

    /// Queues a validated item: marks it queued (`Flink` non-NULL) and wakes a worker.
    ///
    /// # Safety
    ///
    /// `item` is valid for reads and writes until it is dequeued.
    pub(crate) unsafe fn enqueue_locked(
        self: &Arc<Self>,
        st: &mut State,
        item: *mut ffi::WORK_QUEUE_ITEM,
        index: usize,
        routine: usize,
        io_object: usize,
    ) {
        // SAFETY: the caller guarantees `item` is valid for writes; a
        // self-linked entry is non-NULL, which is all "queued" means to callers.
        unsafe {
            let list = &raw mut (*item).List;
            (&raw mut (*list).Flink).write(list);
            (&raw mut (*list).Blink).write(list);
        }
        st.seq = st.seq.wrapping_add(1);
        let entry = Entry {
            item: item as usize,
            seq: st.seq,
            routine,
            io_object,
        };
        st.queues[index].push_back(entry);
        st.queued.insert(item as usize);
        if self.threaded && !st.spawned[index] {
            st.spawned[index] = true;
            for n in 0..workers_for(index) {
                let inner = Arc::clone(self);
                let spawned = std::thread::Builder::new()
                    .name(format!("{}-worker-{n}", queue_name(index)))
                    .spawn(move || worker(inner, index));
                if let Ok(handle) = spawned {
                    st.workers.push((handle.thread().id(), handle));
                }
            }
        }
        // One item: one worker of its queue is enough.
        self.work[index].notify_one();
    }

    /// Takes the next item of queue `index` (or the oldest of all queues),
    /// removes it (`Flink = NULL`) and registers it as running.
    fn take_locked(st: &mut State, index: Option<usize>) -> Option<Taken> {
        let index = match index {
            Some(index) => index,
            None => (0..QUEUE_COUNT)
                .filter_map(|i| st.queues[i].front().map(|e| (e.seq, i)))
                .min()
                .map(|(_, i)| i)?,
        };
        let entry = st.queues[index].pop_front()?;
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
        st.next_id = st.next_id.wrapping_add(1);
        let id = st.next_id;
        st.running.push(Running {
            id,
            routine: entry.routine,
            io_object: entry.io_object,
        });
        Some(Taken {
            id,
            entry,
            routine,
            parameter,
        })
    }

    /// Runs a taken item at PASSIVE_LEVEL and checks the IRQL it returns at;
    /// leaves the thread at PASSIVE_LEVEL.
    fn run_taken(&self, taken: Taken) {
        irql::set_irql(PASSIVE_LEVEL);
        let previous = crate::panics::enter_routine(taken.entry.routine);
        if let Some(routine) = taken.routine {
            // SAFETY: the routine and parameter were stored by the queueing
            // caller, who guarantees they form a valid call (the
            // ExInitializeWorkItem / ExQueueWorkItem contract).
            unsafe { routine(taken.parameter) };
        }
        crate::panics::leave_routine(previous);
        let returned_at = irql::set_irql(PASSIVE_LEVEL);
        let mut st = self.lock();
        st.running.retain(|r| r.id != taken.id);
        self.items_run.fetch_add(1, Ordering::SeqCst);
        if returned_at != PASSIVE_LEVEL {
            self.raise_locked(
                &mut st,
                BugCheck::new(
                    WORKER_THREAD_RETURNED_AT_BAD_IRQL,
                    [
                        taken.entry.routine,
                        returned_at.into(),
                        taken.parameter as usize,
                        taken.entry.item,
                    ],
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
    fn run_next_here(self: &Arc<Self>, index: Option<usize>) -> bool {
        let taken = {
            let mut st = self.lock();
            if st.bug_check.is_some() {
                return false;
            }
            Self::take_locked(&mut st, index)
        };
        let Some(taken) = taken else { return false };
        let previous_binding = bind(Some(Arc::clone(self)));
        let caller_irql = irql::current_irql();
        self.run_taken(taken);
        irql::set_irql(caller_irql);
        bind(previous_binding);
        true
    }

    /// `ObfReferenceObject`: the new count (0 for an unknown object).
    pub(crate) fn reference_object(&self, object: usize) -> isize {
        let mut st = self.lock();
        st.objects.get_mut(&object).map_or(0, |rec| {
            rec.refs += 1;
            rec.refs as isize
        })
    }

    /// `ObfDereferenceObject`: the new count.
    pub(crate) fn dereference_object(&self, object: usize) -> isize {
        let mut st = self.lock();
        st.objects.get_mut(&object).map_or(0, |rec| {
            rec.refs = rec.refs.saturating_sub(1);
            rec.refs as isize
        })
    }

    /// Drops one reference of Io work on `object`.
    pub(crate) fn dereference(&self, object: usize) {
        let mut st = self.lock();
        if let Some(rec) = st.objects.get_mut(&object) {
            rec.refs = rec.refs.saturating_sub(1);
        }
    }

    pub(crate) fn is_same(&self, other: &Arc<Inner>) -> bool {
        core::ptr::eq(self, Arc::as_ptr(other))
    }
}

/// A worker thread of queue `index`.
fn worker(inner: Arc<Inner>, index: usize) {
    bind(Some(Arc::clone(&inner)));
    loop {
        let taken = {
            let mut st = inner.lock();
            loop {
                if st.stop || st.bug_check.is_some() {
                    bind(None);
                    return;
                }
                if let Some(taken) = Inner::take_locked(&mut st, Some(index)) {
                    break taken;
                }
                st = inner.work[index]
                    .wait(st)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        inner.run_taken(taken);
    }
}

std::thread_local! {
    static BOUND: RefCell<Option<Arc<Inner>>> = const { RefCell::new(None) };
}

/// Binds the calling thread to `inner`; returns the previous binding.
fn bind(inner: Option<Arc<Inner>>) -> Option<Arc<Inner>> {
    BOUND.try_with(|bound| bound.replace(inner)).ok().flatten()
}

fn bound() -> Option<Arc<Inner>> {
    BOUND
        .try_with(|bound| bound.borrow().clone())
        .ok()
        .flatten()
        .filter(|inner| !inner.closed.load(Ordering::SeqCst))
}

/// The executive of the calling thread: its binding, else the global one.
pub(crate) fn current() -> Arc<Inner> {
    bound().unwrap_or_else(|| Arc::clone(&Executive::global().inner))
}

/// A host executive: the kernel's system worker threads, drivers and devices,
/// pool, IRQL checks and bug checks, for one test.
///
/// The exported kernel functions (`ExQueueWorkItem`, `IoAllocateWorkItem`,
/// ...) and ntwork's pool act on the executive *bound to the calling thread*:
/// [`new`](Self::new) and [`manual`](Self::manual) bind the creating thread,
/// [`enter`](Self::enter) binds another one, and worker threads are bound to
/// their executive. A thread with no binding uses [`Executive::global`]. So
/// tests running in parallel do not see each other's work.
///
/// A misuse the kernel answers with a bug check is recorded as a [`BugCheck`]
/// (the first one wins, from any thread), printed once to stderr, and stops the
/// executive: nothing more is dispatched and later exported calls do nothing.
pub struct Executive {
    inner: Arc<Inner>,
    /// The thread this executive bound at creation, and its previous binding.
    binding: Option<(ThreadId, Option<Arc<Inner>>)>,
}

/// Binds a thread to an executive until dropped; see [`Executive::enter`].
#[must_use = "the binding ends when the guard is dropped"]
pub struct EnterGuard<'a> {
    previous: Option<Arc<Inner>>,
    _executive: PhantomData<&'a Executive>,
    /// The guard restores a thread-local binding: it stays on its thread.
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        bind(self.previous.take());
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnterGuard")
    }
}

static GLOBAL: OnceLock<Executive> = OnceLock::new();

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

    /// A threaded executive: pools of worker threads per queue type, started
    /// on the queue's first use (Critical 5, Delayed 3, the other fixed queues
    /// 2, each custom priority 1, like ReactOS's static pools). Binds the
    /// calling thread.
    pub fn new() -> Executive {
        Self::bound_new(true)
    }

    /// A deterministic executive: nothing runs until the test calls
    /// [`run_next`](Self::run_next) or [`run_until_idle`](Self::run_until_idle).
    /// Binds the calling thread.
    pub fn manual() -> Executive {
        Self::bound_new(false)
    }

    /// The process-wide threaded executive of threads with no binding. Created
    /// on first use and never dropped; shared by every unbound thread, so
    /// tests should bind their own.
    pub fn global() -> &'static Executive {
        GLOBAL.get_or_init(|| Executive {
            inner: Inner::new(true),
            binding: None,
        })
    }

    /// Binds the calling thread to this executive (for threads a test spawns);
    /// the previous binding comes back when the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            previous: bind(Some(Arc::clone(&self.inner))),
            _executive: PhantomData,
            _not_send: PhantomData,
        }
    }

    /// Whether this executive has worker threads (else it is manual).
    pub fn is_threaded(&self) -> bool {
        self.inner.threaded
    }

    /// Runs the oldest pending item (FIFO across all queues) on the calling
    /// thread, as a worker would: at PASSIVE_LEVEL, with the thread bound to
    /// this executive for the call. `false` if nothing is pending or the
    /// executive is bug-checked.
    pub fn run_next(&self) -> bool {
        self.inner.run_next_here(None)
    }

    /// As [`run_next`](Self::run_next), from the queue `queue_type` only.
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
            st = inner.idle.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Items queued and not yet taken by a worker, in all queues.
    pub fn pending(&self) -> usize {
        self.inner.lock().pending()
    }

    /// Items pending in the queue `queue_type`.
    pub fn pending_in(&self, queue_type: WORK_QUEUE_TYPE) -> usize {
        queue_index(queue_type).map_or(0, |index| self.inner.lock().queues[index].len())
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

    /// Loads a fake driver: a DRIVER_OBJECT owned by this executive.
    pub fn load_driver(&self, name: &str) -> Driver {
        drivers::load(&self.inner, name)
    }

    /// Makes calls at `site` fail according to `plan` (Driver Verifier's Low
    /// Resources Simulation). Replaces the site's previous plan.
    pub fn fail_allocations(&self, site: FaultSite, plan: FailurePlan) {
        self.inner.lock().faults.set(site, plan);
    }

    /// Pool blocks allocated through this executive and not freed.
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
        if let Some((thread, previous)) = self.binding.take() {
            let bound_here = BOUND
                .try_with(|b| b.borrow().as_ref().is_some_and(|i| self.inner.is_same(i)))
                .unwrap_or(false);
            if thread == me && bound_here {
                bind(previous.filter(|p| !p.closed.load(Ordering::SeqCst)));
            }
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
