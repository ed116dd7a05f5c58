//! What the routine running on this thread holds: the addresses of the drains
//! (a `Rundown`, a reusable item's flush protection) its run is counted in,
//! and the device extensions it holds a guard on (`ExtensionRef`). A wait for
//! one of them from this thread waits for the thread itself: on Windows it
//! never returns. Host builds (where panics unwind) report it as
//! a panic in the routine, which the host executive reports as a labelled host
//! diagnostic instead of hanging the test; driver builds compile all of this
//! away. Addresses are only compared, never turned back into pointers.

#[cfg(all(any(feature = "std", all(panic = "unwind", unix)), not(loom)))]
mod imp {
    use core::cell::RefCell;
    use std::vec::Vec;

    std::thread_local! {
        static HELD: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn running<T>(held: [Option<usize>; 2], run: impl FnOnce() -> T) -> T {
        let pushed = held.iter().flatten().count();
        HELD.with(|list| list.borrow_mut().extend(held.iter().flatten()));
        let result = run();
        HELD.with(|list| {
            let mut list = list.borrow_mut();
            let keep = list.len() - pushed;
            list.truncate(keep);
        });
        result
    }

    pub(super) fn is_held(address: usize) -> bool {
        HELD.with(|list| list.borrow().contains(&address))
    }

    std::thread_local! {
        /// The drains this thread holds a guard on (`ExtensionRef`).
        static GUARDS: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn guard_taken(address: usize) {
        // A thread being torn down has no list: nothing to record then.
        let _ = GUARDS.try_with(|list| list.borrow_mut().push(address));
    }

    pub(super) fn guard_released(address: usize) {
        let _ = GUARDS.try_with(|list| {
            let mut list = list.borrow_mut();
            if let Some(at) = list.iter().rposition(|&held| held == address) {
                list.swap_remove(at);
            }
        });
    }

    pub(super) fn holds_guard(address: usize) -> bool {
        GUARDS
            .try_with(|list| list.borrow().contains(&address))
            .unwrap_or(false)
    }
}

/// The address by which `held` knows a drain.
#[inline(always)]
pub(crate) fn address_of<T>(drain: &T) -> usize {
    core::ptr::from_ref(drain).addr()
}

/// Runs `run` (a routine, inside its panic guard) as holding the drains at
/// the addresses `held` (from [`address_of`]).
#[inline(always)]
pub(crate) fn running<T>(held: [Option<usize>; 2], run: impl FnOnce() -> T) -> T {
    #[cfg(all(any(feature = "std", all(panic = "unwind", unix)), not(loom)))]
    {
        imp::running(held, run)
    }
    #[cfg(not(all(any(feature = "std", all(panic = "unwind", unix)), not(loom))))]
    {
        let _ = held;
        run()
    }
}

/// Panics (host builds) if the routine running on this thread holds the drain
/// at `address`: waiting for it would wait for that routine to return.
#[inline(always)]
pub(crate) fn assert_not_held(address: usize) {
    #[cfg(all(any(feature = "std", all(panic = "unwind", unix)), not(loom)))]
    if imp::is_held(address) {
        panic!(
            "a work item routine waits for a rundown or flush that counts this very routine \
             (`Rundown::wait` or `flush` from inside it): the wait needs the routine to return \
             first, so on Windows it never returns. Wait in DriverUnload or on the stop path"
        );
    }
    #[cfg(not(all(any(feature = "std", all(panic = "unwind", unix)), not(loom))))]
    let _ = address;
}

/// Records that this thread took a guard on the drain at `address` (host
/// builds; a guard cannot leave its thread).
#[inline(always)]
pub(crate) fn guard_taken(address: usize) {
    #[cfg(all(any(feature = "std", all(panic = "unwind", unix)), not(loom)))]
    imp::guard_taken(address);
    #[cfg(not(all(any(feature = "std", all(panic = "unwind", unix)), not(loom))))]
    let _ = address;
}

/// Records that this thread released a guard on the drain at `address`.
#[inline(always)]
pub(crate) fn guard_released(address: usize) {
    #[cfg(all(any(feature = "std", all(panic = "unwind", unix)), not(loom)))]
    imp::guard_released(address);
    #[cfg(not(all(any(feature = "std", all(panic = "unwind", unix)), not(loom))))]
    let _ = address;
}

/// Panics (host builds) with `message` if this thread holds a guard on the
/// drain at `address`: waiting for that drain would wait for this thread.
#[inline(always)]
pub(crate) fn assert_no_guard(address: usize, message: &'static str) {
    #[cfg(all(any(feature = "std", all(panic = "unwind", unix)), not(loom)))]
    if imp::holds_guard(address) {
        panic!("{message}");
    }
    #[cfg(not(all(any(feature = "std", all(panic = "unwind", unix)), not(loom))))]
    let _ = (address, message);
}
