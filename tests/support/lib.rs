//! Helpers shared by ntwork's integration tests, examples and benches.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts how many times contexts made from it ran and were dropped.
#[derive(Debug, Default)]
pub struct Tally {
    ran: AtomicUsize,
    dropped: AtomicUsize,
}

impl Tally {
    /// A new, shared tally.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// How many contexts were marked as run.
    pub fn ran(&self) -> usize {
        self.ran.load(Ordering::SeqCst)
    }

    /// How many contexts were dropped.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

/// A context that records its run and its drop in a [`Tally`].
#[derive(Debug)]
pub struct Counted {
    tally: Arc<Tally>,
    /// A payload, so tests can tell contexts apart.
    pub id: usize,
}

impl Counted {
    /// A context for `tally`.
    pub fn new(tally: &Arc<Tally>, id: usize) -> Self {
        Self {
            tally: Arc::clone(tally),
            id,
        }
    }

    /// Records that the routine ran with this context.
    pub fn mark_ran(&self) {
        self.tally.ran.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.tally.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// The safe device object of a host device, borrowed for as long as the test
/// holds the host's handle (which keeps the object's memory).
pub fn object(device: &ntwork_host::Device) -> &ntwork::DeviceObject {
    ntwork::DeviceObject::of(device)
}

/// This driver's object, borrowed for as long as the test holds the host's
/// handle (which keeps the object's memory).
pub fn driver_object(driver: &ntwork_host::Driver) -> &ntwork::DriverObject {
    ntwork::DriverObject::of(driver)
}

/// What DriverEntry of a driver with Ex work does: loads `name` on `exec`,
/// installs ntwork's DriverUnload and opens each of `rundowns` for it.
pub fn load_ex_driver(
    exec: &ntwork_host::Executive,
    name: &str,
    rundowns: &[&'static ntwork::Rundown],
) -> ntwork_host::Driver {
    let driver = exec.load_driver(name);
    let object = driver_object(&driver);
    let irql = ntwork::irql::Passive::on_host();
    object
        .set_unload(|_, _| {}, &irql)
        .expect("a fresh driver object");
    for rundown in rundowns {
        rundown.open(object, &irql).expect("a rundown of this test");
    }
    driver
}

/// The README's code blocks, compiled and run as doc tests so they cannot
/// drift from the API.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
