//! The panic guard around every piece of driver code ntwork calls from a
//! kernel callback: a routine's panic never unwinds into the kernel.
//!
//! Where panics unwind (a unix host with `panic = "unwind"`, or feature
//! `std`), the panic is caught here, at the last Rust frame before the
//! `extern "system"` boundary, where an unwind would abort the process; the
//! host executive learns of it through its panic hook, so ntwork never calls
//! the host. In a driver (`panic = "abort"`) the driver's panic handler runs,
//! and this is a plain call.

/// Runs `f` so that a panic in it never unwinds out of this call.
#[inline]
pub(crate) fn guard(f: impl FnOnce()) {
    #[cfg(any(feature = "std", all(panic = "unwind", unix)))]
    if let Err(payload) = std::panic::catch_unwind(core::panic::AssertUnwindSafe(f)) {
        drop_payload(payload);
    }
    #[cfg(not(any(feature = "std", all(panic = "unwind", unix))))]
    f();
}

/// Drops a panic's payload. Its `Drop` is driver code too and may panic in
/// turn: that second panic is caught as well, and its own payload leaked
/// rather than dropped, so nothing unwinds out of the guard.
#[cfg(any(feature = "std", all(panic = "unwind", unix)))]
#[cold]
fn drop_payload(payload: std::boxed::Box<dyn core::any::Any + Send>) {
    if let Err(again) =
        std::panic::catch_unwind(core::panic::AssertUnwindSafe(move || drop(payload)))
    {
        core::mem::forget(again);
    }
}
