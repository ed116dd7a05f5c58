//! Which driver's code runs on a thread: a routine of the driver (run by a
//! worker) or a test's [`Driver::run`](crate::Driver::run). Pool and Ex work
//! are attributed to it for the unload checks.

use core::cell::Cell;

use crate::state::{DriverState, Inner, State};

std::thread_local! {
    /// (executive, driver index) of the driver code running on this thread.
    static DRIVER_CONTEXT: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

/// The executive's identity in the thread-local context: compared, never
/// turned back into a pointer.
fn key(inner: &Inner) -> usize {
    core::ptr::from_ref(inner).addr()
}

/// Runs `f` as code of `driver` (its Ex work and pool are attributed to it).
pub(crate) fn with_driver_context<T>(
    inner: &Inner,
    driver: Option<usize>,
    f: impl FnOnce() -> T,
) -> T {
    struct Restore(Option<(usize, usize)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = DRIVER_CONTEXT.try_with(|c| c.set(self.0));
        }
    }
    let new = driver.map(|d| (key(inner), d));
    let _restore = Restore(DRIVER_CONTEXT.try_with(|c| c.replace(new)).ok().flatten());
    f()
}

/// The image that holds `routine`, as Windows knows for every address: the
/// driver that declared it ([`Driver::add_to_image`](crate::Driver::add_to_image)),
/// else the only driver ever loaded on the executive. `Err(drivers)` when
/// two or more were loaded and none declared it: the host cannot tell.
/// `Ok(None)`: no driver loaded, the routine is the kernel's (or the test's).
pub(crate) fn image_of(st: &State, routine: usize) -> Result<Option<usize>, usize> {
    if let Some(index) = st.drivers.iter().position(|d| d.image.contains(&routine)) {
        return Ok(Some(index));
    }
    match st.drivers.len() {
        0 => Ok(None),
        1 => Ok(Some(0)),
        n => Err(n),
    }
}

/// The driver whose code is running or calling on this thread: the thread's
/// driver context, else the only loaded driver.
pub(crate) fn calling_driver(st: &State, inner: &Inner) -> Option<usize> {
    let context = DRIVER_CONTEXT
        .try_with(Cell::get)
        .ok()
        .flatten()
        .filter(|&(executive, _)| executive == key(inner))
        .map(|(_, driver)| driver);
    context.or_else(|| {
        let mut loaded = st
            .drivers
            .iter()
            .enumerate()
            .filter(|(_, d)| d.state == DriverState::Loaded);
        match (loaded.next(), loaded.next()) {
            (Some((index, _)), None) => Some(index),
            _ => None,
        }
    })
}
