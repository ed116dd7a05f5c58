//! The host executive: the Windows kernel's system worker threads on Linux,
//! raising the kernel's bug checks as values, so work items are unit-tested
//! with `cargo test`.
//!
//! ```
//! use ntwork_sys as ffi;
//! use ntwork_host::{Executive, bugcheck};
//!
//! unsafe extern "system" fn nothing(_: *mut core::ffi::c_void) {}
//!
//! let exec = Executive::manual();
//! let mut item = ffi::WORK_QUEUE_ITEM::new();
//! unsafe {
//!     ffi::ExInitializeWorkItem(&mut item, Some(nothing), core::ptr::null_mut());
//!     ffi::ExQueueWorkItem(&mut item, ffi::DelayedWorkQueue);
//!     ffi::ExQueueWorkItem(&mut item, ffi::DelayedWorkQueue); // queued twice
//! }
//! let stop = exec.expect_bug_check();
//! assert_eq!((stop.code, stop.parameters[0]), (bugcheck::WORKER_INVALID, 1));
//! ```
//!
//! * [`Executive`]: worker queues (threaded, [`Executive::manual`] and
//!   stepped by the test, or [`Executive::eager`]: every queue call returns
//!   after a worker ran its item), bound per thread so parallel tests are
//!   isolated.
//! * The kernel exports (`ExQueueWorkItem`, `IoAllocateWorkItem`, ...) are
//!   defined here with the C names and signatures of [`ntwork_sys`].
//! * [`Driver`] / [`Device`]: driver and device objects laid out as `wdm.h`
//!   (`IoCreateDevice` / `IoDeleteDevice`, device and driver-object
//!   extensions) with the object manager's pointer counts, and Windows's
//!   unload: the routine in `DriverUnload`, then the image unmapped when the
//!   driver object's last reference drops (0xC4/0x62 for leaks then, under
//!   Driver Verifier; 0xCE for an Ex routine dispatched into the gone image).
//!   A handle keeps its object's memory ([`ntwork_sys::KeepsDeviceObject`]).
//! * [`bugcheck`]: the kernel's codes, and the host's own diagnostics in a
//!   separate range ([`BugCheck::is_host_diagnostic`]). A bug check the test
//!   never looked at is printed as a `*** STOP` line, with routine names,
//!   when its executive is dropped.
//! * [`wdf`]: KMDF's function table and object lifetime, a layer above.
//! * [`WindowsVersion`]: the release the executive behaves as.
//! * IRQL is simulated per thread: [`raise_irql`], [`at_dispatch_level`].
//! * [`FaultSite`] / [`FailurePlan`]: Low Resources Simulation.
//! * [`pool`]: tracked nonpaged pool.
//!
//! `docs/scenarios.md` lists every bug check, its parameters and its source.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![deny(clippy::multiple_unsafe_ops_per_block)]

// The layers, bottom up: the state and its locks; the thread binding, IRQL
// and driver context; dispatch beside the state; the object manager, pool,
// rundown and the work-item functions; the exports; the public face; KMDF
// above it all.
pub mod bugcheck;
mod faults;
mod state;
mod sync;
mod version;

mod binding;
mod context;
mod irql;
mod panics;
mod report;

mod dispatch;

mod checks;
mod io_item;
mod objects;
pub mod pool;
mod rundown;
mod work;

mod drivers;
mod exports;

mod executive;

pub mod wdf;

pub use binding::EnterGuard;
pub use bugcheck::BugCheck;
pub use drivers::{Device, Driver, UnloadError, delete_devices_on_unload};
pub use executive::Executive;
pub use faults::{FailurePlan, FaultSite};
pub use irql::{at_dispatch_level, current_irql, lower_irql, raise_irql};
pub use version::WindowsVersion;

/// The Ex routine of every host `IO_WORKITEM` (the stand-in for the kernel's
/// `IopProcessWorkItem`): the routine a worker calls for Io work, so
/// parameter 1 of 0xE1 for an Io item.
pub fn io_work_item_routine() -> usize {
    io_item::io_trampoline as *const () as usize
}
