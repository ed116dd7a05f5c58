//! What the routine running on this thread holds: the drains (a `Rundown`, a
//! reusable item's flush protection) its run is counted in. A wait for one of
//! them from inside that routine waits for the routine itself: on Windows it
//! never returns. Host builds (`std`) report it as a panic in the routine,
//! which the host executive reports as a labelled host diagnostic instead of
//! hanging the test; driver builds compile all of this away.

use crate::rundown::Drain;

#[cfg(all(any(feature = "std", all(panic = "unwind", unix)), not(loom)))]
mod imp {
    use core::cell::RefCell;
    use std::vec::Vec;

    use crate::rundown::Drain;

    std::thread_local! {
        static HELD: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn running<T>(drains: [Option<&Drain>; 2], run: impl FnOnce() -> T) -> T {
        let pushed = drains.iter().flatten().count();
        HELD.with(|held| {
            let mut held = held.borrow_mut();
            held.extend(drains.iter().flatten().map(|drain| address(drain)));
        });
        let result = run();
        HELD.with(|held| {
            let mut held = held.borrow_mut();
            let keep = held.len() - pushed;
            held.truncate(keep);
        });
        result
    }

    pub(super) fn held(drain: &Drain) -> bool {
        HELD.with(|held| held.borrow().contains(&address(drain)))
    }

    fn address(drain: &Drain) -> usize {
        core::ptr::from_ref(drain) as usize
    }
}

/// Runs `run` (a routine, inside its panic guard) as holding `drains`.
#[inline(always)]
pub(crate) fn running<T>(drains: [Option<&Drain>; 2], run: impl FnOnce() -> T) -> T {
    #[cfg(all(any(feature = "std", all(panic = "unwind", unix)), not(loom)))]
    {
        imp::running(drains, run)
    }
    #[cfg(not(all(any(feature = "std", all(panic = "unwind", unix)), not(loom))))]
    {
        let _ = drains;
        run()
    }
}

/// Panics (host builds) if the routine running on this thread holds `drain`:
/// waiting for it would wait for that routine to return.
#[inline(always)]
pub(crate) fn assert_not_held(drain: &Drain) {
    #[cfg(all(any(feature = "std", all(panic = "unwind", unix)), not(loom)))]
    if imp::held(drain) {
        panic!(
            "a work item routine waits for a rundown or flush that counts this very routine \
             (`Rundown::wait` or `flush` from inside it): the wait needs the routine to return \
             first, so on Windows it never returns. Wait in DriverUnload or on the stop path"
        );
    }
    #[cfg(not(all(any(feature = "std", all(panic = "unwind", unix)), not(loom))))]
    let _ = drain;
}
