//! The KMDF pieces of work items, a layer above the WDM host: the function
//! table `WdfFunctions_01033` and `WdfDriverGlobals` a KMDF driver calls
//! through, with the rules of KMDF (see `docs/kmdf.md`).
//!
//! The layer registers itself with a driver as KMDF does: when the driver's
//! first framework device is made, it displaces the driver object's
//! `DriverUnload` with its own, which disposes the driver's framework objects
//! and then calls the displaced routine. The WDM host never calls up.
//!
//! * [`object`](self): framework objects, their parents and children, and
//!   their disposal;
//! * work items (`WdfWorkItemCreate` / `Enqueue` / `Flush`) on the host's Io
//!   work items, as KMDF's `FxWorkItem` uses `IO_WORKITEM`s;
//! * devices: [`WdfDeviceHandle`], made by
//!   [`Driver::create_wdf_device`](crate::Driver::create_wdf_device);
//! * the table the driver calls through.

mod api;
mod device;
mod object;
mod workitem;

pub use api::{WdfDriverGlobals, WdfFunctions_01033};
pub use device::{WdfDeviceConfig, WdfDeviceHandle};
