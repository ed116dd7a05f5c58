//! Rundown protection: waiting until counted work is done, and refusing new
//! work meanwhile. The kernel primitive is `EX_RUNDOWN_REF`.

use crate::sync::{AtomicU8, Ordering};
use core::cell::UnsafeCell;

use crate::{ffi, held};

/// Counts work in flight; `wait` refuses new work and waits for the rest.
///
/// # Invariants
///
/// `rundown` is an initialized `EX_RUNDOWN_REF` touched only through the
/// rundown exports. `state` is `OPEN` while acquires may succeed, `WAITING`
/// while one thread is in `ExWaitForRundownProtectionRelease` (the kernel
/// allows one waiter), `CLOSED` after that wait returned, and `REOPENING`
/// while the one thread that left `CLOSED` re-initializes the reference.
pub(crate) struct Drain {
    rundown: UnsafeCell<ffi::EX_RUNDOWN_REF>,
    state: AtomicU8,
}

const OPEN: u8 = 0;
const WAITING: u8 = 1;
const CLOSED: u8 = 2;
const REOPENING: u8 = 3;

// SAFETY: the `EX_RUNDOWN_REF` is only reached through the kernel's rundown
// exports, which are thread-safe; `state` is atomic.
unsafe impl Sync for Drain {}
// SAFETY: as for `Sync`; moving it moves plain data (only when nothing holds it).
unsafe impl Send for Drain {}

impl Drain {
    /// Open, with no work counted (`ExInitializeRundownProtection` stores 0).
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            rundown: UnsafeCell::new(ffi::EX_RUNDOWN_REF::new()),
            state: AtomicU8::new(OPEN),
        }
    }

    /// As above; loom's atomics cannot be made in a `const fn`.
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            rundown: UnsafeCell::new(ffi::EX_RUNDOWN_REF::new()),
            state: AtomicU8::new(OPEN),
        }
    }

    /// Counts one more piece of work; `false` once a wait has started.
    #[inline]
    pub(crate) fn acquire(&self) -> bool {
        // SAFETY: by the invariants, an initialized rundown reference.
        unsafe { ffi::ExAcquireRundownProtection(self.rundown.get()) != 0 }
    }

    /// Uncounts work counted by a successful [`acquire`](Self::acquire).
    ///
    /// # Safety
    ///
    /// The caller holds one acquisition and gives it up.
    #[inline]
    pub(crate) unsafe fn release(&self) {
        // SAFETY: the caller's contract.
        unsafe { ffi::ExReleaseRundownProtection(self.rundown.get()) }
    }

    /// Refuses new work and waits until all counted work is released. A second
    /// caller while one waits (or reopens) waits for that to finish, then
    /// returns if the drain is closed or starts its own wait. `PASSIVE_LEVEL`.
    pub(crate) fn wait(&self) {
        held::assert_not_held(self.held());
        loop {
            match self
                .state
                .compare_exchange(OPEN, WAITING, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    // SAFETY: by the invariants, initialized; this thread is the
                    // only waiter (it won the OPEN -> WAITING transition).
                    unsafe { ffi::ExWaitForRundownProtectionRelease(self.rundown.get()) };
                    self.state.store(CLOSED, Ordering::Release);
                    return;
                }
                Err(CLOSED) => return,
                Err(_) => delay_a_millisecond(),
            }
        }
    }

    /// Lets work be counted again after [`wait`](Self::wait) returned. `false`
    /// (and nothing changes) if no wait has finished, or another caller
    /// reopened it first.
    pub(crate) fn reopen(&self) -> bool {
        // One caller leaves CLOSED: two re-initializing could reset the count
        // of work acquired after the first reopened (the loom models found it).
        if self
            .state
            .compare_exchange(CLOSED, REOPENING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        // SAFETY: the wait finished, so no work is counted and acquires fail
        // until this call; this thread alone left CLOSED, so it alone
        // re-initializes, which is then what the kernel allows.
        unsafe { ffi::ExReInitializeRundownProtection(self.rundown.get()) };
        self.state.store(OPEN, Ordering::Release);
        true
    }

    /// The address by which [`held`] knows this drain.
    #[inline(always)]
    pub(crate) fn held(&self) -> usize {
        held::address_of(self)
    }

    /// Whether a wait has started (new work is refused).
    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) != OPEN
    }
}

fn delay_a_millisecond() {
    // Relative intervals are negative, in 100 ns units.
    let mut interval: i64 = -10_000;
    // SAFETY: `interval` is valid for reads for the call.
    unsafe { ffi::KeDelayExecutionThread(ffi::KernelMode, 0, &mut interval) };
}

/// Rundown protection for a driver's Ex work: every Ex item queued under it is
/// counted until its routine (and its context's drop) has returned, and
/// [`wait`](Self::wait), called from DriverUnload, returns only when none is
/// left and refuses new ones from then on.
///
/// The kernel keeps nothing alive for `ExQueueWorkItem`: an Ex routine that
/// runs after its driver image was unloaded is bug check 0xCE. So every safe Ex
/// API takes a `&'static Rundown`.
///
/// ```
/// use ntwork::{QueueError, Rundown, WorkQueue, work_item};
///
/// static WORK: Rundown = Rundown::new();
///
/// #[work_item]
/// fn flush_log(lines: Vec<String>) {
///     assert_eq!(lines.len(), 1);
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// flush_log::queue(&WORK, vec!["started".into()], WorkQueue::Delayed).unwrap();
/// exec.run_until_idle();
///
/// // DriverUnload, at PASSIVE_LEVEL:
/// WORK.wait();
/// let refused = flush_log::queue(&WORK, vec!["late".into()], WorkQueue::Delayed);
/// assert!(matches!(refused, Err(QueueError::Unloading(lines)) if lines == ["late"]));
/// ```
///
/// One window remains, and only the Io path closes it: after the routine
/// returns, ntwork's trampoline releases the protection and then executes a
/// few more instructions (its return) in the driver image. If DriverUnload's
/// wait returns and the image is unmapped in exactly that window, the worker
/// thread returns into unmapped code. The `ExQueueWorkItem` documentation
/// tells drivers to use `IoQueueWorkItem` for this reason: the kernel drops
/// the Io path's object reference only after the routine has returned. Work
/// that is not device-bound but must be unload-safe belongs on an Io item
/// bound to the driver object (`#[work_item(driver)]`).
pub struct Rundown {
    drain: Drain,
    /// False for [`never_unloads`](Self::never_unloads): `wait` does not wait.
    counted: bool,
}

impl Rundown {
    /// Counting rundown protection; DriverUnload must call [`wait`](Self::wait).
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            drain: Drain::new(),
            counted: true,
        }
    }

    /// As above, for the loom models (not `const` there).
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            drain: Drain::new(),
            counted: true,
        }
    }

    /// For a driver that cannot unload: `wait` returns at once and nothing is
    /// ever refused. Items still take and release the (never awaited)
    /// protection, so the queue path has no branch on the mode; a routine
    /// declared `#[work_item(unsafe(never_unloads))]` skips the protection
    /// altogether.
    ///
    /// # Safety
    ///
    /// The driver never sets `DriverObject->DriverUnload` (the I/O manager
    /// cannot unload a driver without an unload routine), so its image stays
    /// mapped for as long as the system runs.
    #[cfg(not(loom))]
    pub const unsafe fn never_unloads() -> Self {
        Self {
            drain: Drain::new(),
            counted: false,
        }
    }

    /// As above, for the loom models (not `const` there).
    ///
    /// # Safety
    ///
    /// As for the `const` version.
    #[cfg(loom)]
    pub unsafe fn never_unloads() -> Self {
        Self {
            drain: Drain::new(),
            counted: false,
        }
    }

    /// Counts one item; `false` once a rundown has started.
    #[inline]
    pub(crate) fn acquire(&self) -> bool {
        self.drain.acquire()
    }

    /// Uncounts an item.
    ///
    /// # Safety
    ///
    /// The caller holds one acquisition from [`acquire`](Self::acquire).
    #[inline]
    pub(crate) unsafe fn release(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.drain.release() }
    }

    /// What counts the work.
    #[inline]
    pub(crate) fn drain(&self) -> &Drain {
        &self.drain
    }

    /// Starts the rundown and waits until every item counted here has finished
    /// running; from now on queueing under this `Rundown` fails with
    /// [`QueueError::Unloading`](crate::QueueError::Unloading). Call it from
    /// DriverUnload (`PASSIVE_LEVEL`), before freeing anything the routines use.
    pub fn wait(&self) {
        if self.counted {
            self.drain.wait();
        }
    }

    /// Accepts work again after [`wait`](Self::wait) (a driver that stops and
    /// restarts a subsystem); `false` if no wait has finished.
    pub fn reopen(&self) -> bool {
        self.counted && self.drain.reopen()
    }

    /// Whether a rundown has started, so queueing is refused.
    pub fn is_running_down(&self) -> bool {
        self.counted && self.drain.is_closed()
    }
}

impl Default for Rundown {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Rundown {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Rundown")
            .field("counted", &self.counted)
            .field("running_down", &self.is_running_down())
            .finish()
    }
}
