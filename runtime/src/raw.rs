//! The raw protocol, for callers who manage their own `WORK_QUEUE_ITEM` or
//! `IO_WORKITEM` memory: the routine ntwork generates for a `#[work_item]`
//! function, and the parameter it expects.
//!
//! A raw routine expects its `Parameter` (or `Context`) to be a context moved
//! into nonpaged pool by [`into_parameter`], and takes it back when it runs.
//! `name::initialize` does this for the Ex path; `name::ROUTINE` is
//! [`ex_routine`] / [`io_routine`] of the routine.
//!
//! The routines are ntwork's own generic functions, picked by the routine's
//! type: no trait item a hand-written impl could override decides which
//! function the kernel calls with a context of which type.
//!
//! ```
//! use ntwork::{ffi, raw, work_item};
//!
//! #[work_item]
//! fn flush(lines: Vec<String>) {
//!     assert_eq!(lines, ["raw"]);
//! }
//!
//! let exec = ntwork_host::Executive::manual();
//! // A caller-owned item, in nonpaged memory in a driver.
//! let mut item = Box::new(ffi::WORK_QUEUE_ITEM::new());
//! let parameter = raw::into_parameter(vec![String::from("raw")]).unwrap();
//! // SAFETY: an unqueued item, valid until the routine ran; the parameter
//! // holds the routine's context and is queued once.
//! unsafe {
//!     ffi::ExInitializeWorkItem(&mut *item, Some(raw::ex_routine::<flush>()), parameter);
//!     ffi::ExQueueWorkItem(&mut *item, ffi::DelayedWorkQueue);
//! }
//! assert_eq!(exec.run_until_idle(), 1);
//! ```

use crate::objects::DeviceObject;
use crate::{ExRoutine, IoRoutineWithoutItem, ffi};

pub use crate::parameter::{from_parameter, into_parameter};

/// The `WORKER_THREAD_ROUTINE` of Ex routine `R`: its `Parameter` must come
/// from [`into_parameter`] with an `R::Context` (as `name::initialize` does);
/// it takes the context back, runs the routine, and frees the parameter.
/// Such items are counted in no `Rundown`: the caller keeps the driver
/// loaded until the routine has run.
pub const fn ex_routine<R: ExRoutine>() -> ffi::WORKER_THREAD_ROUTINE {
    crate::ex::raw::ex_raw::<R>
}

/// The `IO_WORKITEM_ROUTINE_EX` of Io routine `R` (declared without its
/// item), for `IoQueueWorkItemEx`: `Context` must come from
/// [`into_parameter`] with an `R::Context`, and the item **from
/// `IoAllocateWorkItem`** for the object: the routine takes both over, runs,
/// and then frees the item with `IoFreeWorkItem`.
pub const fn io_routine_ex<R: IoRoutineWithoutItem>() -> ffi::IO_WORKITEM_ROUTINE_EX {
    crate::io::raw::io_raw_ex::<R>
}

/// The classic `IO_WORKITEM_ROUTINE` of device routine `R` (declared without
/// its item), for `IoQueueWorkItem`: `Context` must come from
/// [`into_parameter`] with an `R::Context`, which it takes back; the caller
/// keeps (and frees) the work item.
pub const fn io_routine<R: IoRoutineWithoutItem<Object = DeviceObject>>() -> ffi::IO_WORKITEM_ROUTINE
{
    crate::io::raw::io_classic::<R>
}
