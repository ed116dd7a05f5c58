//! The executive's lock and condition variables.
//!
//! Normally std's. Built with `--cfg ntwork_tsan` (the ThreadSanitizer step of
//! `.ci/run`) they are pthread's: std is not instrumented in that build, so
//! TSan cannot see its futex-based locks and would report every access they
//! protect; it intercepts pthread's. Neither version poisons: a panic in the
//! host never leaves the executive unusable.

#[cfg(not(ntwork_tsan))]
mod imp {
    use core::time::Duration;
    use std::sync::PoisonError;

    pub(crate) struct Mutex<T>(std::sync::Mutex<T>);
    pub(crate) type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    pub(crate) struct Condvar(std::sync::Condvar);

    impl Condvar {
        pub(crate) const fn new() -> Self {
            Self(std::sync::Condvar::new())
        }

        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap_or_else(PoisonError::into_inner)
        }

        pub(crate) fn wait_timeout<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            timeout: Duration,
        ) -> (MutexGuard<'a, T>, bool) {
            let (guard, result) = self
                .0
                .wait_timeout(guard, timeout)
                .unwrap_or_else(PoisonError::into_inner);
            (guard, result.timed_out())
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

#[cfg(ntwork_tsan)]
mod imp {
    use core::cell::UnsafeCell;
    use core::ops::{Deref, DerefMut};
    use core::time::Duration;

    /// A pthread mutex around `T`.
    ///
    /// # Invariants
    ///
    /// `raw` is statically initialized and never moved once locked (every
    /// `Mutex` lives in a static or inside an `Arc`); `value` is accessed only
    /// through a guard, which holds `raw`.
    pub(crate) struct Mutex<T> {
        raw: UnsafeCell<libc::pthread_mutex_t>,
        value: UnsafeCell<T>,
    }

    // SAFETY: the value is reached only under the lock.
    unsafe impl<T: Send> Sync for Mutex<T> {}
    // SAFETY: moving the mutex moves the value; the pthread mutex is unlocked
    // whenever it can be moved (no guard borrows it).
    unsafe impl<T: Send> Send for Mutex<T> {}

    pub(crate) struct MutexGuard<'a, T> {
        mutex: &'a Mutex<T>,
    }

    impl<T> Mutex<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self {
                raw: UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
                value: UnsafeCell::new(value),
            }
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            // SAFETY: an initialized mutex that stays in place (invariants).
            unsafe { libc::pthread_mutex_lock(self.raw.get()) };
            MutexGuard { mutex: self }
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the guard holds the lock.
            unsafe { &*self.mutex.value.get() }
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: the guard holds the lock, and `&mut self` is unique.
            unsafe { &mut *self.mutex.value.get() }
        }
    }

    impl<T> Drop for MutexGuard<'_, T> {
        fn drop(&mut self) {
            // SAFETY: this guard locked it.
            unsafe { libc::pthread_mutex_unlock(self.mutex.raw.get()) };
        }
    }

    /// A pthread condition variable (realtime clock for timed waits).
    ///
    /// # Invariants
    ///
    /// `raw` is statically initialized and never moved once used.
    pub(crate) struct Condvar {
        raw: UnsafeCell<libc::pthread_cond_t>,
    }

    // SAFETY: pthread condition variables are thread-safe.
    unsafe impl Sync for Condvar {}
    // SAFETY: a pthread condition variable may be used from any thread, and
    // it is moved only before first use (the invariants).
    unsafe impl Send for Condvar {}

    impl Condvar {
        pub(crate) const fn new() -> Self {
            Self {
                raw: UnsafeCell::new(libc::PTHREAD_COND_INITIALIZER),
            }
        }

        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            // SAFETY: the guard holds the mutex, as pthread_cond_wait requires.
            unsafe { libc::pthread_cond_wait(self.raw.get(), guard.mutex.raw.get()) };
            guard
        }

        pub(crate) fn wait_timeout<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            timeout: Duration,
        ) -> (MutexGuard<'a, T>, bool) {
            let mut now = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `now` is valid for writes.
            unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
            let nanos = now.tv_nsec as u64 + u64::from(timeout.subsec_nanos());
            let deadline = libc::timespec {
                tv_sec: now.tv_sec
                    + timeout.as_secs() as libc::time_t
                    + (nanos / 1_000_000_000) as libc::time_t,
                tv_nsec: (nanos % 1_000_000_000) as _,
            };
            // SAFETY: the guard holds the mutex; `deadline` is valid for reads.
            let rc = unsafe {
                libc::pthread_cond_timedwait(self.raw.get(), guard.mutex.raw.get(), &deadline)
            };
            (guard, rc == libc::ETIMEDOUT)
        }

        pub(crate) fn notify_one(&self) {
            // SAFETY: an initialized condition variable.
            unsafe { libc::pthread_cond_signal(self.raw.get()) };
        }

        pub(crate) fn notify_all(&self) {
            // SAFETY: an initialized condition variable.
            unsafe { libc::pthread_cond_broadcast(self.raw.get()) };
        }
    }
}

pub(crate) use imp::{Condvar, Mutex, MutexGuard};
