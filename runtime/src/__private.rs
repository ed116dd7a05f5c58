//! What `#[work_item]` expansions call. Not a public API: names and signatures
//! change without notice.

use crate::error::{AllocError, QueueError};
use crate::{DeviceObject, ExRoutine, IoRoutine, IoRoutineWithoutItem, Rundown};
use crate::{WorkQueue, ffi, raw, trampolines};

pub use core;
pub use ntwork_macros::__with_items as with_items;

/// Runs a routine body so that a panic never unwinds into the kernel.
///
/// With feature `std` (a host, where panics unwind) the panic is caught here,
/// at the last Rust frame before the `extern "system"` boundary, where an
/// unwind would abort the process; the host executive learns of it through its
/// panic hook. In a driver (`panic = "abort"`) the driver's panic handler runs.
#[inline]
pub fn guard(f: impl FnOnce()) {
    #[cfg(any(feature = "std", all(panic = "unwind", unix)))]
    {
        let _ = std::panic::catch_unwind(core::panic::AssertUnwindSafe(f));
    }
    #[cfg(not(any(feature = "std", all(panic = "unwind", unix))))]
    f();
}

/// The typed `ExInitializeWorkItem` behind a generated `initialize`.
///
/// # Safety
///
/// `item` is valid for writes, in nonpaged memory, and not queued; it stays
/// valid until the routine has run, and it is queued at most once (the routine
/// takes the context back).
pub unsafe fn ex_initialize<R: ExRoutine>(
    item: *mut ffi::WORK_QUEUE_ITEM,
    context: R::Context,
) -> Result<(), AllocError<R::Context>> {
    let parameter = raw::into_parameter(context)?;
    // SAFETY: the caller guarantees `item` is writable and unqueued.
    unsafe { ffi::ExInitializeWorkItem(item, Some(R::ROUTINE), parameter) };
    Ok(())
}

/// Allocates and queues a one-shot Ex item counted in `rundown`; on failure the
/// context comes back.
pub fn ex_queue<R: ExRoutine>(
    rundown: &'static Rundown,
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), QueueError<R::Context>> {
    crate::ex::queue_once::<R>(rundown, context, queue)
}

pub use crate::ex::{ExRoutineNeverUnloads, ExRoutineRundown};

/// Allocates and queues a one-shot Ex item of a driver that cannot unload
/// (`#[work_item(unsafe(never_unloads))]`); on failure the context comes back.
///
/// # Safety
///
/// The driver has no DriverUnload routine, so its image stays mapped while
/// the routine can run (the user's `unsafe(never_unloads)` states it).
pub unsafe fn ex_queue_never_unloads<R: ExRoutineNeverUnloads>(
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), AllocError<R::Context>> {
    crate::ex::queue_once_uncounted::<R>(context, queue)
}

/// Allocates and queues a one-shot Ex item counted in the routine's own
/// rundown (`#[work_item(rundown = WORK)]`); on failure the context comes back.
pub fn ex_queue_counted<R: ExRoutineRundown>(
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), QueueError<R::Context>> {
    crate::ex::queue_once_counted::<R>(context, queue)
}

/// Allocates and queues a one-shot Io item (see `io::queue_once`).
pub fn io_queue<R: IoRoutine>(
    object: &R::Object,
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), AllocError<R::Context>> {
    crate::io::queue_once::<R>(object, context, queue)
}

/// Allocates and queues a one-shot Io item of a routine that does not take
/// its item: only the context goes to pool (see `io::queue_once_without_item`).
pub fn io_queue_without_item<R: IoRoutineWithoutItem>(
    object: &R::Object,
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), AllocError<R::Context>> {
    crate::io::queue_once_without_item::<R>(object, context, queue)
}

/// A device routine declared without its work item: it also has the classic
/// `IO_WORKITEM_ROUTINE` for raw `IoQueueWorkItem`.
pub trait IoClassicRoutine: IoRoutineWithoutItem<Object = DeviceObject> {
    /// The `IO_WORKITEM_ROUTINE` for raw `IoQueueWorkItem`: `Context` must come
    /// from [`raw::into_parameter`] with the routine's context, which it takes
    /// back; the caller keeps (and frees) the work item.
    const ROUTINE: ffi::IO_WORKITEM_ROUTINE = trampolines::io_classic::<Self>;
}

/// The Ex initializer behind `name::initialize`. Only Ex routines have one, so a
/// device-bound routine's stand-in `initialize` fails at the caller's code.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is device-bound, so it cannot be initialized as a WORK_QUEUE_ITEM for ExQueueWorkItem",
    label = "a device-bound routine",
    note = "device-bound work goes through IoQueueWorkItem: `{Self}::queue(device, context, queue)` or `ntwork::IoWorkItem<{Self}>`"
)]
pub trait ExInitializer<C> {
    /// See [`ex_initialize`].
    ///
    /// # Safety
    ///
    /// As for [`ex_initialize`].
    unsafe fn initialize(item: *mut ffi::WORK_QUEUE_ITEM, context: C) -> Result<(), AllocError<C>>;
}

impl<R: ExRoutine> ExInitializer<R::Context> for R {
    unsafe fn initialize(
        item: *mut ffi::WORK_QUEUE_ITEM,
        context: R::Context,
    ) -> Result<(), AllocError<R::Context>> {
        // SAFETY: forwarded from the caller.
        unsafe { ex_initialize::<R>(item, context) }
    }
}
