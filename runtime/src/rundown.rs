//! Rundown protection: waiting until counted work is done, and refusing new
//! work meanwhile. The kernel primitive is `EX_RUNDOWN_REF`.

use crate::irql::{AtMostApc, verify};
use crate::sync::{AtomicPtr, AtomicU8, Ordering};
use core::cell::UnsafeCell;
use core::ffi::c_void;

use crate::{ffi, held};

/// `EX_RUNDOWN_ACTIVE`: the bit of `EX_RUNDOWN_REF::Count` that
/// `ExWaitForRundownProtectionRelease` sets; `ExAcquireRundownProtection`
/// fails while it is set (ReactOS `ntoskrnl/ex/rundown.c`, `ntoskrnl/include/
/// internal/ex.h`). `Count == EX_RUNDOWN_ACTIVE` with no holders is what a
/// completed rundown leaves, and `ExReInitializeRundownProtection` makes it
/// usable again.
const EX_RUNDOWN_ACTIVE: usize = 1;

/// Counts work in flight; `wait` refuses new work and waits for the rest.
///
/// # Invariants
///
/// `rundown` is an `EX_RUNDOWN_REF` touched only through the rundown exports.
/// `state` says what it is:
///
/// - `UNOPENED`: run down from the start (`Count == EX_RUNDOWN_ACTIVE`, no
///   holder): acquires fail until [`open`](Self::open);
/// - `OPENING`: the one thread that left `UNOPENED` re-initializes it;
/// - `OPEN`: acquires may succeed;
/// - `WAITING`: one thread is in `ExWaitForRundownProtectionRelease` (the
///   kernel allows one waiter);
/// - `CLOSED`: that wait returned; [`reopen`](Self::reopen) may open it again;
/// - `REOPENING`: the one thread that left `CLOSED` re-initializes it;
/// - `FINAL`: the driver's unload waited for it: it never opens again.
pub(crate) struct Drain {
    rundown: UnsafeCell<ffi::EX_RUNDOWN_REF>,
    state: AtomicU8,
}

const OPEN: u8 = 0;
const WAITING: u8 = 1;
const CLOSED: u8 = 2;
const REOPENING: u8 = 3;
const UNOPENED: u8 = 4;
const OPENING: u8 = 5;
const FINAL: u8 = 6;

// SAFETY: the `EX_RUNDOWN_REF` is only reached through the kernel's rundown
// exports, which are thread-safe; `state` is atomic.
unsafe impl Sync for Drain {}
// SAFETY: a `Drain` is plain data (an `EX_RUNDOWN_REF` and an atomic) that
// any thread may reach through the thread-safe rundown exports; it can only be
// moved when nothing borrows it, so nothing holds it then.
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

    /// Not open yet: acquires fail until [`open`](Self::open).
    #[cfg(not(loom))]
    pub(crate) const fn unopened() -> Self {
        Self {
            rundown: UnsafeCell::new(ffi::EX_RUNDOWN_REF {
                Count: EX_RUNDOWN_ACTIVE,
            }),
            state: AtomicU8::new(UNOPENED),
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

    /// As above; loom's atomics cannot be made in a `const fn`.
    #[cfg(loom)]
    pub(crate) fn unopened() -> Self {
        Self {
            rundown: UnsafeCell::new(ffi::EX_RUNDOWN_REF {
                Count: EX_RUNDOWN_ACTIVE,
            }),
            state: AtomicU8::new(UNOPENED),
        }
    }

    /// Counts one more piece of work; `false` unless the drain is open.
    #[inline]
    pub(crate) fn acquire(&self) -> bool {
        // SAFETY: by the invariants the reference is only used through the
        // rundown exports, and acquiring is allowed in every state.
        unsafe { ffi::ExAcquireRundownProtection(self.rundown.get()) != 0 }
    }

    /// Uncounts work counted by a successful [`acquire`](Self::acquire).
    ///
    /// # Safety
    ///
    /// The caller holds one acquisition and gives it up.
    #[inline]
    pub(crate) unsafe fn release(&self) {
        // SAFETY: the caller gives up an acquisition it holds, which is the
        // one thing `ExReleaseRundownProtection` requires.
        unsafe { ffi::ExReleaseRundownProtection(self.rundown.get()) }
    }

    /// Whether it was never opened (a refused acquire means "not open", not
    /// "unloading").
    pub(crate) fn is_unopened(&self) -> bool {
        matches!(self.state.load(Ordering::Acquire), UNOPENED | OPENING)
    }

    /// `UNOPENED` -> `OPEN`, with `register` run in between (it may refuse,
    /// and the drain stays unopened). `false` if the drain was not unopened.
    pub(crate) fn open<E>(&self, register: impl FnOnce() -> Result<(), E>) -> Result<bool, E> {
        if self
            .state
            .compare_exchange(UNOPENED, OPENING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Ok(false);
        }
        if let Err(error) = register() {
            self.state.store(UNOPENED, Ordering::Release);
            return Err(error);
        }
        // SAFETY: run down with no holder (`UNOPENED`), and this thread alone
        // left that state, so it alone re-initializes the reference, which is
        // what the kernel allows after a completed rundown.
        unsafe { ffi::ExReInitializeRundownProtection(self.rundown.get()) };
        self.state.store(OPEN, Ordering::Release);
        Ok(true)
    }

    /// Whether the driver's unload has waited for it: it never opens again.
    pub(crate) fn is_final(&self) -> bool {
        self.state.load(Ordering::Acquire) == FINAL
    }

    /// `FINAL` -> `UNOPENED`: the driver that opened it unloaded (its image
    /// gone, on Windows; its host driver object, in a test) and a new driver
    /// object takes it over. The reference is as the final wait left it:
    /// run down, no holder, which is what `UNOPENED` holds.
    pub(crate) fn reset_final(&self) -> bool {
        self.state
            .compare_exchange(FINAL, UNOPENED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Returns once no thread is between `UNOPENED` and `OPEN`.
    pub(crate) fn wait_while_opening(&self) {
        while self.state.load(Ordering::Acquire) == OPENING {
            delay_a_millisecond();
        }
    }

    /// Refuses new work and waits until all counted work is released. A second
    /// caller while one waits (or reopens) waits for that to finish, then
    /// returns if the drain is closed or starts its own wait. `PASSIVE_LEVEL`.
    ///
    /// `false` if the wait returned with work still counted: never on
    /// Windows, whose wait returns only then; the host executive returns
    /// from a wait it stopped with a diagnostic (one that could never end).
    /// The caller then frees nothing the counted work may use.
    #[must_use = "`false`: work is still counted, nothing it uses may be freed"]
    pub(crate) fn wait(&self) -> bool {
        self.wait_into(CLOSED)
    }

    /// [`wait`](Self::wait) for the last time: the drain never opens again.
    /// What the driver's unload does for every rundown opened for it.
    #[must_use = "`false`: work is still counted, nothing it uses may be freed"]
    pub(crate) fn wait_final(&self) -> bool {
        self.wait_into(FINAL)
    }

    fn wait_into(&self, end: u8) -> bool {
        held::assert_not_held(self.held());
        loop {
            match self
                .state
                .compare_exchange(OPEN, WAITING, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    // SAFETY: this thread won OPEN -> WAITING, so it is the
                    // only waiter the kernel allows.
                    unsafe { ffi::ExWaitForRundownProtectionRelease(self.rundown.get()) };
                    let ran_down = self.ran_down();
                    self.state.store(end, Ordering::Release);
                    return ran_down;
                }
                Err(CLOSED) if end == FINAL => {
                    if self
                        .state
                        .compare_exchange(CLOSED, FINAL, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        return true;
                    }
                }
                // Nothing counted and nothing can be: done.
                Err(CLOSED | FINAL | UNOPENED) => return true,
                Err(_) => delay_a_millisecond(),
            }
        }
    }

    /// Whether the `ExWaitForRundownProtectionRelease` that just returned
    /// left no holder. Windows's returns only then (driver builds take it as
    /// read). The host executive's leaves `Count` at `EX_RUNDOWN_ACTIVE`
    /// when it ran down, and returns with holders left only from a wait it
    /// stopped with a diagnostic.
    fn ran_down(&self) -> bool {
        #[cfg(all(any(feature = "std", all(panic = "unwind", unix)), not(loom)))]
        {
            // SAFETY: `rundown.get()` points to the `EX_RUNDOWN_REF` this
            // drain owns, live with it; the field's place is taken without a
            // reference.
            let count = unsafe { &raw mut (*self.rundown.get()).Count };
            // SAFETY: an aligned `usize` that (the host's rundown being
            // atomic) is only ever accessed atomically, live for this call.
            let count = unsafe { core::sync::atomic::AtomicUsize::from_ptr(count) };
            count.load(Ordering::Acquire) == EX_RUNDOWN_ACTIVE
        }
        #[cfg(not(all(any(feature = "std", all(panic = "unwind", unix)), not(loom))))]
        {
            true
        }
    }

    /// Lets work be counted again after [`wait`](Self::wait) returned. `false`
    /// (and nothing changes) if no wait has finished, another caller reopened
    /// it first, or the driver's unload waited for it.
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

    /// Whether a wait has started (new work is refused) or it was never opened.
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
/// counted until its routine (and its context's drop) has returned, and the
/// driver's unload waits until none is left.
///
/// The kernel keeps nothing alive for `ExQueueWorkItem`: an Ex routine that
/// runs after its driver image was unloaded is bug check 0xCE. So every safe Ex
/// API takes a `&'static Rundown`, and a `Rundown` counts work only once it is
/// [opened](Self::open) for the driver, which registers it with ntwork's
/// DriverUnload ([`DriverObject::set_unload`](crate::DriverObject::set_unload)):
/// that routine waits for every rundown opened for the driver before anything
/// else, so no safe code can leave Ex work pending past the image. Before it is
/// opened, queueing fails with [`QueueError::NotOpen`](crate::QueueError::NotOpen);
/// once the unload waited, with [`QueueError::Unloading`](crate::QueueError::Unloading),
/// for good.
///
/// ```
/// use ntwork::irql::Passive;
/// use ntwork::{DriverObject, QueueError, Rundown, WorkQueue, work_item};
///
/// static WORK: Rundown = Rundown::new();
///
/// #[work_item]
/// fn flush_log(lines: Vec<String>) {
///     assert_eq!(lines.len(), 1);
/// }
///
/// fn driver_unload(_driver: &DriverObject, _irql: &mut Passive<'_>) {
///     // WORK has been waited for: no Ex routine runs any more.
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// let host_driver = exec.load_driver("log.sys");
/// // DriverEntry (its proof: `unsafe { Passive::assume() }`):
/// let driver = DriverObject::of(&host_driver);
/// let irql = Passive::on_host();
/// driver.set_unload(driver_unload, &irql).unwrap();
/// WORK.open(driver, &irql).unwrap();
///
/// flush_log::queue(&WORK, vec!["started".into()], WorkQueue::Delayed, &irql).unwrap();
/// exec.run_until_idle();
///
/// host_driver.unload().unwrap(); // ntwork's DriverUnload: waits for WORK, then `driver_unload`
/// let refused = flush_log::queue(&WORK, vec!["late".into()], WorkQueue::Delayed, &irql);
/// assert!(matches!(refused, Err(QueueError::Unloading(lines)) if lines == ["late"]));
/// ```
///
/// One window remains, and only the Io path closes it: after the routine
/// returns, ntwork's trampoline releases the protection and then executes a
/// few more instructions (its return) in the driver image. If the unload's
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
    /// The driver it was opened for (its `DRIVER_OBJECT`), once opened.
    pub(crate) owner: AtomicPtr<c_void>,
    /// The next rundown opened for the same driver (ntwork's unload list).
    pub(crate) next: AtomicPtr<Rundown>,
}

impl Rundown {
    /// A rundown that counts nothing until it is [opened](Self::open) for the
    /// driver; ntwork's DriverUnload then waits for it.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            drain: Drain::unopened(),
            counted: true,
            owner: AtomicPtr::new(core::ptr::null_mut()),
            next: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// As above, for the loom models (not `const` there).
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            drain: Drain::unopened(),
            counted: true,
            owner: AtomicPtr::new(core::ptr::null_mut()),
            next: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// For a driver whose image is never unloaded: open from the start,
    /// `wait` returns at once and nothing is ever refused. Items still take
    /// and release the (never awaited) protection, so the queue path has no
    /// branch on the mode; a routine declared
    /// `#[work_item(unsafe(never_unloads))]` skips the protection altogether.
    ///
    /// # Safety
    ///
    /// No DriverUnload routine is ever set for the driver, by the driver or by
    /// its framework (a KMDF driver's framework sets one unless the driver
    /// asks it not to), so the I/O manager never unloads the image and every
    /// routine counted here runs in a mapped image.
    #[cfg(not(loom))]
    pub const unsafe fn never_unloads() -> Self {
        Self {
            drain: Drain::new(),
            counted: false,
            owner: AtomicPtr::new(core::ptr::null_mut()),
            next: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// As above, for the loom models (not `const` there).
    ///
    /// # Safety
    ///
    /// No DriverUnload routine is ever set for the driver, so every routine
    /// counted here runs in a mapped image.
    #[cfg(loom)]
    pub unsafe fn never_unloads() -> Self {
        Self {
            drain: Drain::new(),
            counted: false,
            owner: AtomicPtr::new(core::ptr::null_mut()),
            next: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Counts one item; `false` unless the rundown is open.
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
        // SAFETY: the caller gives up an acquisition it holds, which is
        // `Drain::release`'s contract.
        unsafe { self.drain.release() }
    }

    /// Whether a refused acquire was refused because the rundown was never
    /// opened (rather than because the driver is unloading).
    #[cold]
    pub(crate) fn refused_as_unopened(&self) -> bool {
        self.counted && self.drain.is_unopened()
    }

    /// The error of a refused acquire, around `value`.
    #[cold]
    pub(crate) fn refusal<T>(&self, value: T) -> crate::QueueError<T> {
        if self.refused_as_unopened() {
            crate::QueueError::NotOpen(value)
        } else {
            crate::QueueError::Unloading(value)
        }
    }

    /// What counts the work.
    #[inline]
    pub(crate) fn drain(&self) -> &Drain {
        &self.drain
    }

    /// Whether this rundown counts anything (not [`never_unloads`](Self::never_unloads)).
    pub(crate) fn is_counted(&self) -> bool {
        self.counted
    }

    /// Refuses new work and waits until every item counted here has finished
    /// running: a driver that stops a subsystem before unload (ntwork's
    /// DriverUnload waits for every opened rundown anyway, so DriverUnload need
    /// not call this). From now on queueing fails with
    /// [`QueueError::Unloading`](crate::QueueError::Unloading) until
    /// [`reopen`](Self::reopen). IRQL <= `APC_LEVEL`; not from a routine counted
    /// here (it would wait for itself).
    pub fn wait(&self, irql: &impl AtMostApc) {
        verify(irql, "Rundown::wait");
        if self.counted {
            // Work still counted after a host stop: the driver's code decides
            // what it frees; a stopped executive runs no more of it.
            let _ = self.drain.wait();
        }
    }

    /// Accepts work again after [`wait`](Self::wait) (a driver that stops and
    /// restarts a subsystem); `false` if no wait has finished, or if the
    /// driver's unload has waited for the rundown: then it never opens again.
    pub fn reopen(&self) -> bool {
        self.counted && self.drain.reopen()
    }

    /// Whether queueing is refused: a rundown has started, or it was never
    /// opened.
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
            .finish_non_exhaustive()
    }
}
