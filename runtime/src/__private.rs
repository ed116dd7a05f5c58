//! What `#[work_item]` expansions call. Not a public API: names and signatures
//! change without notice.

use core::ffi::c_void;

use crate::error::AllocError;
use crate::{DeviceObject, ExRoutine, ExWorkItem, IoRoutine, WorkQueue, ffi, raw};

pub use core;

/// Runs a routine body so that a panic never unwinds into the kernel.
///
/// With feature `std` (a host, where panics unwind) the panic is caught here,
/// at the last Rust frame before the `extern "system"` boundary, where an
/// unwind would abort the process; the host executive learns of it through its
/// panic hook. In a driver (`panic = "abort"`) the driver's panic handler runs.
#[inline]
pub fn guard(f: impl FnOnce()) {
    #[cfg(feature = "std")]
    {
        let _ = std::panic::catch_unwind(core::panic::AssertUnwindSafe(f));
    }
    #[cfg(not(feature = "std"))]
    f();
}

/// The `WORKER_THREAD_ROUTINE` behind a generated `ROUTINE`.
///
/// # Safety
///
/// `parameter` came from [`raw::into_parameter`] with an `R::Context`, and this
/// is the one call that takes it back.
pub unsafe extern "system" fn ex_routine<R: ExRoutine>(parameter: *mut c_void) {
    // SAFETY: see the function's contract.
    let context = unsafe { raw::from_parameter::<R::Context>(parameter) };
    guard(|| R::run(context));
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
    unsafe { ffi::ExInitializeWorkItem(item, Some(ex_routine::<R>), parameter) };
    Ok(())
}

/// Allocates and queues a one-shot Ex item.
pub fn ex_queue<R: ExRoutine>(
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), AllocError<R::Context>> {
    ExWorkItem::<R>::new(context).map(|item| item.queue(queue))
}

/// A device-bound routine declared without its work item: what its classic
/// `IO_WORKITEM_ROUTINE` calls.
pub trait IoClassicRoutine: IoRoutine {
    /// Runs the routine with the device object and the context.
    fn run_classic(device: &DeviceObject, context: Self::Context);
}

/// The `IO_WORKITEM_ROUTINE` behind a generated `ROUTINE`.
///
/// # Safety
///
/// `device` is the live device object the kernel passes; `context` came from
/// [`raw::into_parameter`] with an `R::Context`, and this is the one call that
/// takes it back. The caller owns the work item.
pub unsafe extern "system" fn io_routine<R: IoClassicRoutine>(
    device: ffi::PDEVICE_OBJECT,
    context: *mut c_void,
) {
    // SAFETY: see the function's contract.
    let (device_object, ctx) = unsafe {
        (
            DeviceObject::from_raw(device),
            raw::from_parameter::<R::Context>(context),
        )
    };
    guard(|| R::run_classic(&device_object, ctx));
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

/// The `IO_WORKITEM_ROUTINE_EX` behind a generated `ROUTINE` of a routine that
/// takes its item.
///
/// # Safety
///
/// `item` came from `IoAllocateWorkItem` for the device object `io_object` and
/// is owned by the routine from now on; `context` came from
/// [`raw::into_parameter`] with an `R::Context`, and is taken back once.
pub unsafe extern "system" fn io_routine_ex<R: IoRoutine>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    // SAFETY: forwarded; `into_parameter` makes exactly the slot an allocated
    // `IoWorkItem` uses.
    unsafe { crate::io::allocated_routine::<R>(io_object, context, item) }
}

/// Creates an `IoWorkItem` and queues it.
pub fn io_queue<R: IoRoutine>(
    device: &DeviceObject,
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), AllocError<R::Context>> {
    match crate::IoWorkItem::<R>::new(device) {
        Ok(item) => {
            item.queue(context, queue);
            Ok(())
        }
        Err(_) => Err(AllocError(context)),
    }
}
