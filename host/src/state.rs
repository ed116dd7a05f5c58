//! The executive's state, at the bottom of the crate: what is queued and
//! running, the objects and drivers the object manager knows, the settings,
//! and the bug check that stopped it. Every other module works on it through
//! [`Inner::lock`]; nothing here calls up.

use core::alloc::Layout;
use core::fmt;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;
use std::vec::Vec;

use ntwork_sys::WORK_QUEUE_ITEM;

use crate::bugcheck::BugCheck;
use crate::faults::Faults;
use crate::sync::{Condvar, Mutex, MutexGuard};
use crate::version::{PRIORITIES, WindowsVersion};

/// A raw pointer kept in the state (which moves between threads). The
/// pointer keeps its provenance; the address alone (`addr`) is only ever
/// compared or printed.
pub(crate) struct Ptr<T>(pub(crate) *mut T);

impl<T> Ptr<T> {
    /// The address, for comparing and for bug-check parameters.
    pub(crate) fn addr(&self) -> usize {
        self.0.addr()
    }
}

impl<T> Clone for Ptr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ptr<T> {}

impl<T> fmt::Debug for Ptr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.0, f)
    }
}

// SAFETY: a `Ptr` is only dereferenced under the executive's lock or by the
// code that owns what it points to; moving the pointer value between threads
// carries no access with it.
unsafe impl<T> Send for Ptr<T> {}
// SAFETY: `&Ptr` gives only the pointer value; a `Ptr` is dereferenced only
// under the executive's lock or by the code that owns its pointee.
unsafe impl<T> Sync for Ptr<T> {}

/// How an executive runs work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Nothing runs until the test steps it.
    Manual,
    /// Worker threads on demand, as the Windows 8+ pool.
    Threaded,
    /// Threaded, and every queue call waits until a worker has run its item.
    Eager,
}

/// A queued `WORK_QUEUE_ITEM`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The `WORK_QUEUE_ITEM` (for Io items, the one inside the `IO_WORKITEM`).
    pub(crate) item: Ptr<WORK_QUEUE_ITEM>,
    /// Its number, unique in the executive, from the queue call.
    pub(crate) id: u64,
    /// Index of its queue type (see `version::queue_index`).
    pub(crate) queue: usize,
    /// The `WorkerRoutine` the worker calls (for Io items, the kernel's Io
    /// trampoline): parameter 1 of 0xE1.
    pub(crate) worker_routine: usize,
    /// The driver's routine: `WorkerRoutine`, or the Io item's routine.
    pub(crate) routine: usize,
    /// The referenced device (or driver) object of Io work; 0 for Ex work.
    pub(crate) io_object: usize,
    /// The driver whose image holds the routine (for Io work, the object's
    /// driver), if known.
    pub(crate) driver: Option<usize>,
}

impl Entry {
    /// An entry for a queue call; the enqueue fills in the item, id and queue.
    pub(crate) fn new(
        worker_routine: usize,
        routine: usize,
        io_object: usize,
        driver: Option<usize>,
    ) -> Self {
        Self {
            item: Ptr(core::ptr::null_mut()),
            id: 0,
            queue: 0,
            worker_routine,
            routine,
            io_object,
            driver,
        }
    }
}

/// The ready queues: one FIFO list per thread priority, the queued items'
/// addresses, and the items being run.
pub(crate) struct Queues {
    /// Ready items by thread priority: the highest non-empty list is served
    /// first, FIFO within one priority (shared by queue types of equal priority).
    pub(crate) ready: Vec<VecDeque<Entry>>,
    /// Addresses of queued `WORK_QUEUE_ITEM`s.
    pub(crate) queued: BTreeSet<usize>,
    /// The items being run.
    pub(crate) running: Vec<Running>,
    /// The last id given out.
    pub(crate) next_id: u64,
}

/// An item being run: its id, its routine, and the thread running it.
pub(crate) struct Running {
    pub(crate) id: u64,
    pub(crate) routine: usize,
    pub(crate) thread: ThreadId,
}

impl Queues {
    fn new() -> Self {
        Self {
            ready: (0..PRIORITIES).map(|_| VecDeque::new()).collect(),
            queued: BTreeSet::new(),
            running: Vec::new(),
            next_id: 0,
        }
    }

    /// Every ready entry, highest priority first.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.ready.iter().rev().flatten()
    }

    /// Items queued and not yet taken.
    pub(crate) fn pending(&self) -> usize {
        self.ready.iter().map(VecDeque::len).sum()
    }

    /// Whether the item numbered `id` is queued or running.
    pub(crate) fn outstanding(&self, id: u64) -> bool {
        self.running.iter().any(|r| r.id == id) || self.entries().any(|e| e.id == id)
    }

    /// The routine of the item numbered `id`, queued or running (0: neither).
    pub(crate) fn routine_of(&self, id: u64) -> usize {
        self.running
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.routine)
            .or_else(|| self.entries().find(|e| e.id == id).map(|e| e.routine))
            .unwrap_or(0)
    }
}

/// The worker threads of a threaded executive, and their settings.
pub(crate) struct Workers {
    /// Threads alive.
    pub(crate) threads: usize,
    /// Threads waiting for work.
    pub(crate) idle: usize,
    /// Threads running an item.
    pub(crate) busy: usize,
    pub(crate) max: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) starvation_limit: Duration,
    /// Manual mode: workers `IoTryQueueWorkItem` may count on being idle.
    pub(crate) manual_idle: usize,
    /// Workers and the watchdog, to join at the end.
    pub(crate) handles: Vec<(ThreadId, JoinHandle<()>)>,
    pub(crate) next_name: usize,
    /// The executive is being dropped: workers exit.
    pub(crate) stop: bool,
}

/// Default cap on worker threads of a threaded executive.
const DEFAULT_MAX_WORKERS: usize = 64;
/// An idle worker beyond the first exits after this long without work.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_millis(500);
/// Pending work that no worker could take for this long is reported.
const DEFAULT_STARVATION_LIMIT: Duration = Duration::from_secs(10);

impl Workers {
    fn new() -> Self {
        Self {
            threads: 0,
            idle: 0,
            busy: 0,
            max: DEFAULT_MAX_WORKERS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            starvation_limit: DEFAULT_STARVATION_LIMIT,
            manual_idle: 1,
            handles: Vec::new(),
            next_name: 0,
            stop: false,
        }
    }
}

/// Kind of a host kernel object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    Driver,
    Device,
}

/// Memory the host allocated for an object (or a driver object's
/// extension), with the layout it was allocated with.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) memory: Ptr<u8>,
    pub(crate) layout: Layout,
}

impl Block {
    /// Gives the memory back.
    ///
    /// # Safety
    ///
    /// Nothing uses the memory afterwards, and it is released once.
    pub(crate) unsafe fn release(self) {
        // SAFETY: allocated with `layout` by the host (the caller's contract
        // says it is released once and not used again).
        unsafe { std::alloc::dealloc(self.memory.0, self.layout) };
    }
}

/// An `IoAllocateDriverObjectExtension` allocation.
#[derive(Debug)]
pub(crate) struct DriverExtension {
    /// `ClientIdentificationAddress`, the key.
    pub(crate) client: usize,
    pub(crate) block: Block,
}

/// A DRIVER_OBJECT or DEVICE_OBJECT the executive made, alive (its pointer
/// count is above 0).
#[derive(Debug)]
pub(crate) struct ObjectRec {
    pub(crate) kind: ObjectKind,
    /// The object's memory (for a device, the extension follows it).
    pub(crate) block: Block,
    /// Index of the owning driver in `State::drivers`.
    pub(crate) driver: usize,
    /// The object manager's pointer count: 1 from creation (dropped by
    /// `IoDeleteDevice` / after DriverUnload), one per queued or running Io
    /// item, one per `ObfReferenceObject`, and for a driver object one per
    /// device that still exists. The object is freed when it reaches 0.
    pub(crate) refs: usize,
    /// How often `IoDeleteDevice` was called (devices only).
    pub(crate) deletes: usize,
    /// Host handles ([`Driver`](crate::Driver), [`Device`](crate::Device))
    /// that keep the memory (not the object) while they exist.
    pub(crate) handles: usize,
    /// A driver object's `IoAllocateDriverObjectExtension` allocations,
    /// freed with it.
    pub(crate) extensions: Vec<DriverExtension>,
}

/// An object the object manager freed (pointer count 0). Its memory stays
/// while a host handle names it; then only the address is remembered (a
/// later dereference of it is 0x18).
#[derive(Debug)]
pub(crate) struct Freed {
    pub(crate) block: Option<Block>,
    pub(crate) handles: usize,
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
    pub(crate) object: Ptr<ntwork_sys::DRIVER_OBJECT>,
    pub(crate) state: DriverState,
    /// Routines declared to be in the driver's image
    /// ([`Driver::add_to_image`](crate::Driver::add_to_image)).
    pub(crate) image: Vec<usize>,
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
    pub(crate) queues: Queues,
    pub(crate) workers: Workers,
    pub(crate) bug_check: Option<BugCheck>,
    /// The test has seen the bug check (it is not printed at the end).
    pub(crate) bug_check_seen: bool,
    pub(crate) io_items: HashMap<usize, IoRec>,
    pub(crate) objects: HashMap<usize, ObjectRec>,
    /// Objects freed (pointer count reached 0): a later dereference is 0x18.
    pub(crate) freed: HashMap<usize, Freed>,
    pub(crate) drivers: Vec<DriverRec>,
    pub(crate) faults: Faults,
    pub(crate) target: WindowsVersion,
    pub(crate) verifier: bool,
    /// KMDF's verifier with DbgBreakOnError: its breaks stop the executive.
    pub(crate) kmdf_verifier: bool,
}

impl State {
    fn new() -> Self {
        Self {
            queues: Queues::new(),
            workers: Workers::new(),
            bug_check: None,
            bug_check_seen: false,
            io_items: HashMap::new(),
            objects: HashMap::new(),
            freed: HashMap::new(),
            drivers: Vec::new(),
            faults: Faults::new(),
            target: WindowsVersion::Windows11,
            verifier: false,
            kmdf_verifier: false,
        }
    }
}

impl Drop for State {
    /// The executive is gone (no handle holds it): the objects' memory goes.
    fn drop(&mut self) {
        for (_, rec) in self.objects.drain() {
            for extension in rec.extensions {
                // SAFETY: nothing can reach the executive's objects any more,
                // and the extension's record is drained, so released once.
                unsafe { extension.block.release() };
            }
            if rec.kind == ObjectKind::Device {
                retire_device(rec.block);
                continue;
            }
            // SAFETY: the executive is gone, so nothing reaches a driver
            // object's memory; its record is drained, so released once.
            unsafe { rec.block.release() };
        }
        for (_, freed) in self.freed.drain() {
            if let Some(block) = freed.block {
                // SAFETY: a freed object's memory, kept only for its host
                // handles, which are gone with the executive; drained, so
                // released once.
                unsafe { block.release() };
            }
        }
    }
}

/// The shared part of an executive: its state behind one lock, and the
/// condition variables of dispatch.
pub(crate) struct Inner {
    pub(crate) mode: Mode,
    state: Mutex<State>,
    /// Signalled once per item queued (one idle worker wakes), and to all on
    /// stop and on bug check.
    pub(crate) work: Condvar,
    /// Signalled when a routine finishes, on stop and on bug check.
    pub(crate) idle: Condvar,
    /// Routines that ran to completion.
    pub(crate) items_run: AtomicU64,
    /// The owning `Executive` was dropped.
    closed: AtomicBool,
}

impl Inner {
    pub(crate) fn new(mode: Mode) -> Arc<Self> {
        Arc::new(Self {
            mode,
            state: Mutex::new(State::new()),
            work: Condvar::new(),
            idle: Condvar::new(),
            items_run: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        })
    }

    /// Whether worker threads run the work (else the test steps it).
    pub(crate) fn threaded(&self) -> bool {
        self.mode != Mode::Manual
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

    /// [`raise`](Self::raise) with the lock held.
    pub(crate) fn raise_locked(&self, st: &mut State, bug_check: BugCheck) {
        if st.bug_check.is_some() {
            return;
        }
        st.bug_check = Some(bug_check);
        if crate::report::print_when_raised() {
            crate::report::print(&bug_check);
        }
        self.wake_all();
    }

    /// Wakes every worker and every waiter, for stop and bug check.
    pub(crate) fn wake_all(&self) {
        self.work.notify_all();
        self.idle.notify_all();
    }

    /// Whether the owning `Executive` was dropped.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Marks the owning `Executive` dropped.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// The bug check, marked seen by the test.
    pub(crate) fn take_bug_check_seen(&self) -> Option<BugCheck> {
        let mut st = self.lock();
        st.bug_check_seen = true;
        st.bug_check
    }

    /// Prints the bug check if nobody has seen it (at the executive's end).
    pub(crate) fn report_unseen(&self) {
        let st = self.lock();
        if let Some(bug_check) = st.bug_check
            && !st.bug_check_seen
            && !crate::report::print_when_raised()
        {
            crate::report::print(&bug_check);
        }
    }

    /// Whether a bug check stopped this executive.
    pub(crate) fn bug_check_recorded(&self) -> bool {
        self.lock().bug_check.is_some()
    }

    pub(crate) fn is_same(&self, other: &Arc<Inner>) -> bool {
        core::ptr::eq(self, Arc::as_ptr(other))
    }
}

/// The memory of every device object the object manager freed, or that an
/// executive still had when it was dropped: never given back. A driver holds
/// its own devices by address (ntwork's `Device<E>` relies on the creator's
/// reference, as on Windows), and safe host code can drop that reference
/// behind it (a handle's [`delete`](crate::Device::delete), the default
/// DriverUnload, dropping the executive): its reads then stay reads of the
/// device's own bytes, and what it passes to an export is still 0x18 or an
/// unknown object. Kept in a static, so leak checkers see it as reachable.
static RETIRED_DEVICES: Mutex<Vec<Block>> = Mutex::new(Vec::new());

/// Keeps a device object's memory for the rest of the process.
pub(crate) fn retire_device(block: Block) {
    RETIRED_DEVICES.lock().push(block);
}
