//! A kernel spin lock around a value: `EX_SPIN_LOCK` taken exclusively, which
//! raises the IRQL to `DISPATCH_LEVEL` for as long as it is held. Raising is
//! an IRQL proof's business: the lock borrows the caller's lower proof
//! mutably while the guard lives, and hands out a [`Dispatch`] one.

use core::cell::UnsafeCell;
use core::fmt;
use core::ops::{Deref, DerefMut};

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
///     SAMPLES.lock(irql)[0] += 1;
/// }
///
/// # let _exec = ntwork_host::Executive::manual();
/// let mut irql = Passive::on_host();
/// {
///     let mut samples = SAMPLES.lock(&mut irql); // DISPATCH_LEVEL from here
///     let (samples, dispatch) = samples.split();
///     samples[1] += 1;
///     let _: &Dispatch<'_> = dispatch; // what the lock's scope proves
/// } // back to PASSIVE_LEVEL
/// ntwork_host::at_dispatch_level(|| {
///     // SAFETY: the test runs this as the DPC would, at DISPATCH_LEVEL.
///     dpc(&mut unsafe { Dispatch::assume() });
/// });
/// assert_eq!(*SAMPLES.lock(&mut irql), [1, 1, 0, 0]);
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

    /// Acquires the lock: the IRQL goes to `DISPATCH_LEVEL` until the guard
    /// drops. `irql` is the caller's proof of IRQL <= `DISPATCH_LEVEL`,
    /// borrowed mutably for the guard's life, so nothing in the lock's scope
    /// can use it (the IRQL is no longer what it says).
    pub fn lock<'a, P: AtMostDispatch>(&'a self, irql: &'a mut P) -> SpinLockGuard<'a, T> {
        verify(irql, "SpinLock::lock");
        // SAFETY: an `EX_SPIN_LOCK` of this lock (the invariants), in memory
        // that lives while `self` is borrowed; the caller is at IRQL <=
        // DISPATCH_LEVEL (its proof) and does not hold it (a guard borrows
        // `self`, and a second `lock` needs the proof the first borrowed).
        let old = unsafe { ffi::ExAcquireSpinLockExclusive(self.lock.get()) };
        SpinLockGuard {
            lock: self,
            old,
            // SAFETY: the IRQL is DISPATCH_LEVEL until the guard drops, and
            // the proof is borrowed no longer than the guard.
            irql: unsafe { Dispatch::raised() },
        }
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

/// A held [`SpinLock`]: the value, and the proof that the IRQL is
/// `DISPATCH_LEVEL` while it is held.
///
/// # Invariants
///
/// This thread holds `lock`, acquired at `old`, which the drop restores.
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    old: KIRQL,
    irql: Dispatch<'a>,
}

impl<'a, T> SpinLockGuard<'a, T> {
    /// The proof the lock's scope gives: `DISPATCH_LEVEL`.
    pub fn irql(&self) -> &Dispatch<'a> {
        &self.irql
    }

    /// The value and the proof together (the value mutably).
    pub fn split(&mut self) -> (&mut T, &Dispatch<'a>) {
        // SAFETY: this thread holds the lock (the invariants), so it alone
        // reaches the value, for as long as the guard is borrowed.
        let value = unsafe { &mut *self.lock.value.get() };
        (value, &self.irql)
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this thread holds the lock (the invariants), so no one
        // writes the value while the guard is borrowed.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this thread holds the lock (the invariants), so it alone
        // reaches the value, for as long as the guard is borrowed mutably.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this thread holds the lock, acquired at `old` (the
        // invariants); released once, here, which restores that IRQL.
        unsafe { ffi::ExReleaseSpinLockExclusive(self.lock.lock.get(), self.old) };
    }
}

impl<T: fmt::Debug> fmt::Debug for SpinLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SpinLockGuard").field(&**self).finish()
    }
}
