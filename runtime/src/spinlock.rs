//! A kernel spin lock around a value: `EX_SPIN_LOCK` taken exclusively, which
//! raises the IRQL to `DISPATCH_LEVEL` for as long as it is held. Raising is
//! an IRQL proof's business: the lock borrows the caller's lower proof
//! mutably for the locked scope, and hands a [`Dispatch`] one to the closure
//! that runs in it. The scope is a closure, not a guard, because a guard can
//! be forgotten (`mem::forget`): its borrow of the lower proof would end with
//! the IRQL still raised, and safe code would hold a `PASSIVE_LEVEL` proof at
//! `DISPATCH_LEVEL`.

use core::cell::UnsafeCell;
use core::fmt;

use crate::ffi::{self, KIRQL};
use crate::irql::{AtMostDispatch, Dispatch, verify};

/// A value guarded by a kernel spin lock (`EX_SPIN_LOCK`,
/// `ExAcquireSpinLockExclusive`): the driver's lock for state a DPC and a
/// work-item routine share, in nonpaged memory (a static, a device
/// extension, an `Arc` from a nonpaged allocator).
///
/// ```
/// use ntwork::SpinLock;
/// use ntwork::irql::{Dispatch, Passive};
///
/// static SAMPLES: SpinLock<[u32; 4]> = SpinLock::new([0; 4]);
///
/// fn dpc(irql: &mut Dispatch<'_>) {
///     SAMPLES.lock(irql, |samples, _| samples[0] += 1);
/// }
///
/// # let _exec = ntwork_host::Executive::manual();
/// let mut irql = Passive::on_host();
/// SAMPLES.lock(&mut irql, |samples, dispatch| {
///     // DISPATCH_LEVEL in here: `dispatch` is what the scope proves, and
///     // `irql` cannot be used (the lock borrows it).
///     samples[1] += 1;
///     let _: &Dispatch<'_> = dispatch;
/// }); // back to PASSIVE_LEVEL
/// ntwork_host::at_dispatch_level(|| {
///     // SAFETY: the test runs this as the DPC would, at DISPATCH_LEVEL.
///     dpc(&mut unsafe { Dispatch::assume() });
/// });
/// assert_eq!(SAMPLES.lock(&mut irql, |samples, _| *samples), [1, 1, 0, 0]);
/// ```
///
/// # Invariants
///
/// `lock` is an `EX_SPIN_LOCK`, 0 when released, used only through
/// `ExAcquireSpinLockExclusive` / `ExReleaseSpinLockExclusive`; `value` is
/// reached only by the thread that holds the lock.
pub struct SpinLock<T> {
    lock: UnsafeCell<ffi::EX_SPIN_LOCK>,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands the value to one thread at a time, so sharing the
// lock shares at most a `&mut T` with one thread: `T: Send` suffices.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the value; the lock is released whenever it
// can be moved (a guard borrows it).
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// A released lock around `value` (`EX_SPIN_LOCK` 0, as the DDI asks).
    pub const fn new(value: T) -> Self {
        Self {
            lock: UnsafeCell::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Runs `f` with the lock held and the value: the IRQL is `DISPATCH_LEVEL`
    /// until `f` returns (or unwinds, in host builds), when the lock is
    /// released and the IRQL restored. `irql` is the caller's proof of IRQL
    /// <= `DISPATCH_LEVEL`, borrowed mutably for the scope, so `f` cannot use
    /// it (the IRQL is no longer what it says); `f` gets the scope's
    /// `Dispatch` proof instead, shared, for calls allowed at
    /// `DISPATCH_LEVEL` (queueing work). A lock needs a proof borrowed
    /// mutably, so `f` cannot take a spin lock: not this one again, which
    /// would spin forever at `DISPATCH_LEVEL`.
    ///
    /// ```
    /// # use ntwork::SpinLock;
    /// # use ntwork::irql::Passive;
    /// # let _exec = ntwork_host::Executive::manual();
    /// # let mut irql = Passive::on_host();
    /// let pending: SpinLock<Vec<u32>> = SpinLock::new(Vec::new());
    /// pending.lock(&mut irql, |pending, _| pending.push(7));
    /// let batch = pending.lock(&mut irql, |pending, _| core::mem::take(pending));
    /// assert_eq!(batch, [7]);
    /// ```
    pub fn lock<P: AtMostDispatch, R>(
        &self,
        irql: &mut P,
        f: impl FnOnce(&mut T, &Dispatch<'_>) -> R,
    ) -> R {
        verify(irql, "SpinLock::lock");
        // SAFETY: an `EX_SPIN_LOCK` of this lock (the invariants), in memory
        // that lives while `self` is borrowed; the caller is at IRQL <=
        // DISPATCH_LEVEL (its proof) and does not hold it: a holder is inside
        // some `f`, which has only a shared proof, and `lock` needs a
        // mutable one.
        let old = unsafe { ffi::ExAcquireSpinLockExclusive(self.lock.get()) };
        // INVARIANT: this thread holds the lock, acquired at `old`.
        let held = Held { lock: self, old };
        // SAFETY: the IRQL is DISPATCH_LEVEL until `held` drops, after `f`
        // returned, and the proof is lent to `f` only for the call.
        let dispatch = unsafe { Dispatch::raised() };
        // SAFETY: this thread holds the lock (`held`), so it alone reaches
        // the value until `held` drops; the borrow is lent to `f` only.
        let value = unsafe { &mut *self.value.get() };
        let result = f(value, &dispatch);
        drop(held);
        result
    }

    /// The value, through a unique borrow of the lock (no one else can hold
    /// it).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The value, the lock given up.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: Default> Default for SpinLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> fmt::Debug for SpinLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpinLock").finish_non_exhaustive()
    }
}

/// The lock held for one [`SpinLock::lock`] call: its drop releases it (also
/// when the closure unwinds, in host builds). Private, so it cannot be
/// forgotten.
///
/// # Invariants
///
/// This thread holds `lock`, acquired at `old`, which the drop restores.
struct Held<'a, T> {
    lock: &'a SpinLock<T>,
    old: KIRQL,
}

impl<T> Drop for Held<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this thread holds the lock, acquired at `old` (the
        // invariants); released once, here, which restores that IRQL.
        unsafe { ffi::ExReleaseSpinLockExclusive(self.lock.lock.get(), self.old) };
    }
}
