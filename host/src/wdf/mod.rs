//! The KMDF pieces of work items, a layer above the WDM host: the function
//! table a KMDF driver calls through (`WdfFunctions_01015` / `_01031` /
//! `_01033`, one table) and `WdfDriverGlobals`, with KMDF's rules (see
//! `docs/kmdf.md`).
//!
//! The layer registers itself with a driver as KMDF does: when the driver's
//! first framework device is made, it displaces the driver object's
//! `DriverUnload` with its own, which deletes the driver's framework objects
//! and then calls the displaced routine. The WDM host never calls up.
//!
//! Framework objects keep KMDF's lifetime (`FxObject`): a reference count,
//! disposal (children first, then the cleanup callbacks, inside the call
//! that disposes, `WdfObjectDelete` from the object's own callback
//! included), and destruction at the last reference (the destroy callbacks,
//! then the memory). Work items run on the host's Io work items, as KMDF's
//! `FxWorkItem` uses `IO_WORKITEM`s.

mod api;
mod device;
mod globals;
mod lifetime;
mod object;
pub mod status;
mod validate;
mod workitem;

pub use api::{WdfFunctions_01015, WdfFunctions_01031, WdfFunctions_01033};
pub use device::{WdfDeviceConfig, WdfDeviceHandle};
pub use globals::WdfDriverGlobals;
