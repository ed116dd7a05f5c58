//! A Rust panic inside a work routine.
//!
//! ntwork's trampolines catch the panic (feature `std` of ntwork) before it
//! reaches the `extern "system"` boundary. The host learns of it here, through
//! a process-wide panic hook that looks at what the panicking thread was
//! running, so the runtime never has to name the host.

use core::cell::Cell;
use std::sync::Once;

use crate::bugcheck::{self, BugCheck};

std::thread_local! {
    /// The routine (as the executive reports it) this thread is running, if any.
    static ROUTINE: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Marks the calling thread as running `routine`; returns what it ran before
/// (a routine run by `run_next` from inside another routine).
pub(crate) fn enter_routine(routine: usize) -> Option<usize> {
    ROUTINE.with(|r| r.replace(Some(routine)))
}

/// Undoes [`enter_routine`].
pub(crate) fn leave_routine(previous: Option<usize>) {
    ROUTINE.with(|r| r.set(previous));
}

/// Installs the hook once per process; the previous hook still runs (it prints
/// the panic message).
pub(crate) fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            let routine = ROUTINE.try_with(Cell::get).ok().flatten();
            if let Some(routine) = routine {
                crate::binding::current()
                    .raise(BugCheck::new(bugcheck::HOST_RUST_PANIC, [routine, 0, 0, 0]));
            }
        }));
    });
}
