//! [`Executive`]: the public face of a host executive. It owns the shared
//! state ([`crate::state`]) and binds threads to it; dispatch, the object
//! manager and the work-item functions do the work.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::ThreadId;
use std::time::Duration;

use ntwork_sys::WORK_QUEUE_TYPE;

use crate::binding::{EnterGuard, bind};
use crate::bugcheck::BugCheck;
use crate::dispatch;
use crate::drivers::Driver;
use crate::faults::{FailurePlan, FaultSite};
use crate::state::{DriverState, Inner, Mode};
use crate::version::{WindowsVersion, queue_index};

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
/// (the first one wins, from any thread) and stops the executive: nothing
/// more is dispatched and later exported calls do nothing. A bug check the
/// test never looked at ([`bug_check`](Self::bug_check),
/// [`expect_bug_check`](Self::expect_bug_check), an unload's error) is
/// printed as a `*** STOP` line, with routine names, when the executive is
/// dropped.
pub struct Executive {
    inner: Arc<Inner>,
    /// The thread this executive bound at creation, and its previous binding.
    binding: Option<(ThreadId, Option<Arc<Inner>>)>,
}

impl Executive {
    fn bound_new(mode: Mode) -> Self {
        crate::panics::install_hook();
        let inner = Inner::new(mode);
        dispatch::start_minimum_workers(&inner);
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
    /// hanging. It starts with one idle worker, as an idle Windows system
    /// has. Binds the calling thread.
    pub fn new() -> Executive {
        Self::bound_new(Mode::Threaded)
    }

    /// A threaded executive on which every queue call (`ExQueueWorkItem`,
    /// `IoQueueWorkItem[Ex]`, `IoTryQueueWorkItem`, `WdfWorkItemEnqueue`)
    /// returns only after a worker thread has run the item to completion:
    /// the queueing thread waits. On Windows another processor's worker may
    /// run an item at once, so this is a legal interleaving; here it is the
    /// only one, so code that touches an item (or its context) after handing
    /// it over reads freed memory every time, which AddressSanitizer and Miri
    /// report. `IoTryQueueWorkItem` returns TRUE (a worker is started for
    /// the item if none is idle).
    ///
    /// A routine that waits for something the queueing thread holds cannot
    /// finish before the queue call returns: after the starvation limit the
    /// host reports [`HOST_EAGER_WAIT_TIMEOUT`](crate::bugcheck::HOST_EAGER_WAIT_TIMEOUT).
    /// A DPC that queues an item under a `SpinLock` the routine also takes
    /// is such a case: test it on [`new`](Self::new) or [`manual`](Self::manual).
    /// Binds the calling thread.
    pub fn eager() -> Executive {
        Self::bound_new(Mode::Eager)
    }

    /// A deterministic executive: nothing runs until the test calls
    /// [`run_next`](Self::run_next) or [`run_until_idle`](Self::run_until_idle).
    /// Binds the calling thread.
    ///
    /// So a wait for work still pending (a reusable item's `flush`, the
    /// unload's wait for a `Rundown`) could never end: it stops the
    /// executive with
    /// [`HOST_MANUAL_WAIT_BLOCKS`](crate::bugcheck::HOST_MANUAL_WAIT_BLOCKS)
    /// and returns, and the calls after it do nothing. Run the work first
    /// (`run_until_idle`), then take the remove or unload path.
    pub fn manual() -> Executive {
        Self::bound_new(Mode::Manual)
    }

    /// Binds the calling thread to this executive (for threads a test spawns);
    /// the previous binding comes back when the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard::new(bind(Some(Arc::clone(&self.inner))))
    }

    /// Whether this executive has worker threads (else it is manual).
    pub fn is_threaded(&self) -> bool {
        self.inner.threaded()
    }

    /// Whether queue calls wait for their item to run ([`eager`](Self::eager)).
    pub fn is_eager(&self) -> bool {
        self.inner.mode == Mode::Eager
    }

    /// Runs the next pending item on the calling thread, as a worker would
    /// (the highest thread priority first, FIFO within one priority): at
    /// PASSIVE_LEVEL, with the thread bound to this executive for the call.
    /// `false` if nothing is pending or the executive is bug-checked.
    pub fn run_next(&self) -> bool {
        dispatch::run_next_here(&self.inner, None)
    }

    /// As [`run_next`](Self::run_next), the first item queued with
    /// `queue_type` only.
    pub fn run_next_in(&self, queue_type: WORK_QUEUE_TYPE) -> bool {
        match queue_index(queue_type) {
            Some(index) => dispatch::run_next_here(&self.inner, Some(index)),
            None => false,
        }
    }

    /// Manual: runs items until none is pending (items queued by routines run
    /// too) or a bug check stops it; returns how many ran. Threaded: waits as
    /// [`wait_idle`](Self::wait_idle) does and returns how many items ran
    /// meanwhile.
    pub fn run_until_idle(&self) -> usize {
        if self.inner.threaded() {
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
        dispatch::wait_idle(&self.inner);
    }

    /// Items queued and not yet taken by a worker, in all queues.
    pub fn pending(&self) -> usize {
        self.inner.lock().queues.pending()
    }

    /// Items pending in the queue `queue_type`.
    pub fn pending_in(&self, queue_type: WORK_QUEUE_TYPE) -> usize {
        queue_index(queue_type).map_or(0, |index| {
            let st = self.inner.lock();
            st.queues.entries().filter(|e| e.queue == index).count()
        })
    }

    /// Routines that ran to completion.
    pub fn items_run(&self) -> u64 {
        self.inner.items_run.load(Ordering::SeqCst)
    }

    /// The bug check that stopped this executive, if any. Looking at it
    /// marks it expected: it is not printed as a `*** STOP` line when the
    /// executive is dropped (an unexpected one is).
    pub fn bug_check(&self) -> Option<BugCheck> {
        self.inner.take_bug_check_seen()
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

    /// Turns KMDF's verifier (with `DbgBreakOnError`) on or off (default
    /// off): where the framework's verifier breaks into the debugger (a
    /// flush from the item's own callback, an enqueue of an item being
    /// deleted, `WdfObjectDelete` of a device), the host stops with
    /// [`HOST_WDF_VERIFIER_BREAK`](crate::bugcheck::HOST_WDF_VERIFIER_BREAK);
    /// off, the framework only traces and the call returns.
    pub fn set_kmdf_verifier(&self, enabled: bool) {
        self.inner.lock().kmdf_verifier = enabled;
    }

    /// The cap on worker threads of a threaded executive (default 64, at
    /// least 1).
    pub fn set_max_workers(&self, max: usize) {
        self.inner.lock().workers.max = max.max(1);
    }

    /// How long an idle worker beyond the last one waits for work before it
    /// exits (default 500 ms).
    pub fn set_worker_idle_timeout(&self, timeout: Duration) {
        self.inner.lock().workers.idle_timeout = timeout;
    }

    /// How long work may wait while every worker (at the cap) is busy before
    /// the host reports [`HOST_WORKER_STARVATION`](crate::bugcheck::HOST_WORKER_STARVATION)
    /// (default 10 s).
    pub fn set_starvation_limit(&self, limit: Duration) {
        self.inner.lock().workers.starvation_limit = limit;
    }

    /// Manual mode: how many idle workers `IoTryQueueWorkItem` may count on
    /// (default 1). It returns `FALSE` when that many items are pending
    /// already, as Windows does when no worker is idle.
    pub fn set_idle_workers(&self, idle: usize) {
        self.inner.lock().workers.manual_idle = idle;
    }

    /// Worker threads alive now (threaded mode).
    pub fn worker_threads(&self) -> usize {
        self.inner.lock().workers.threads
    }

    /// Whether the image of the driver loaded as `name` is mapped: from
    /// [`load_driver`](Self::load_driver) until the last reference to its
    /// driver object drops after [`Driver::unload`].
    pub fn is_image_mapped(&self, name: &str) -> bool {
        self.inner
            .lock()
            .drivers
            .iter()
            .any(|d| &*d.name == name && d.state != DriverState::Unmapped)
    }

    /// Loads a fake driver: a DRIVER_OBJECT owned by this executive.
    pub fn load_driver(&self, name: &str) -> Driver {
        Driver::load(&self.inner, name)
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
    /// (`IoInitializeWorkItem`) and not yet freed or uninitialized. An
    /// `ntwork::Device` holds one from its create to its delete (the item
    /// its drop deletes it with): a test takes the count after creating its
    /// devices as its baseline.
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
        if self.inner.threaded() {
            self.wait_idle();
        }
        dispatch::stop_workers(&self.inner);
        self.inner.report_unseen();
        self.inner.close();
        let me = std::thread::current().id();
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
            .field("threaded", &self.inner.threaded())
            .field("pending", &st.queues.pending())
            .field("running", &st.queues.running.len())
            .field("items_run", &self.items_run())
            .field("bug_check", &st.bug_check)
            .finish()
    }
}
