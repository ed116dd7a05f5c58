//! The raw protocol of Ex routines: a caller-owned `WORK_QUEUE_ITEM` whose
//! `Parameter` is a context moved to pool (`raw::into_parameter`), and the
//! routine that takes it back.

use core::ffi::c_void;

use super::ExRoutine;
use crate::error::AllocError;
use crate::guard::guard;
use crate::irql::Passive;
use crate::{ffi, parameter};

/// `WORKER_THREAD_ROUTINE` of the raw protocol (the routine struct's `ROUTINE`).
///
/// # Safety
///
/// `parameter` came from [`into_parameter`](crate::raw::into_parameter) with an `R::Context`, and this
/// is the one call that takes it back.
pub(crate) unsafe extern "system" fn ex_raw<R: ExRoutine>(parameter: *mut c_void) {
    // SAFETY: `parameter` came from `into_parameter` with an `R::Context`, and
    // this is the one call that takes it back (this routine's contract).
    let context = unsafe { parameter::from_parameter::<R::Context>(parameter) };
    // SAFETY: ntwork's routine for the kernel, on the worker, before the body.
    let mut irql = unsafe { Passive::in_routine() };
    guard(|| R::run(context, &mut irql));
}

/// The raw-protocol trampolines again, in the ABIs other bindings declare
/// ([`crate::abi`]): each forwards to the one above, so the behaviour and its
/// safety contract are the same. Object and item pointers are generic because
/// each binding names its own pointee types.
///
/// # Safety
///
/// `parameter` came from [`into_parameter`](crate::raw::into_parameter) with
/// an `R::Context`, and this is the one call that takes it back.
#[cfg(not(target_arch = "x86"))]
pub(crate) unsafe extern "C" fn ex_raw_c<R: ExRoutine>(parameter: *mut c_void) {
    // SAFETY: `parameter` came from `into_parameter` with an `R::Context` and
    // is taken back only by this call (this routine's contract).
    unsafe { ex_raw::<R>(parameter) }
}

/// [`ex_raw`] spelled `extern "stdcall"`, as bindgen declares x86 callbacks
/// (`"system"` is stdcall there too, but Rust types the two ABIs apart).
///
/// # Safety
///
/// `parameter` came from [`into_parameter`](crate::raw::into_parameter) with
/// an `R::Context`, and this is the one call that takes it back.
#[cfg(target_arch = "x86")]
pub(crate) unsafe extern "stdcall" fn ex_raw_stdcall<R: ExRoutine>(parameter: *mut c_void) {
    // SAFETY: `parameter` came from `into_parameter` with an `R::Context` and
    // is taken back only by this call (this routine's contract).
    unsafe { ex_raw::<R>(parameter) }
}

/// The typed `ExInitializeWorkItem` behind a generated `initialize`.
///
/// # Safety
///
/// `item` is valid for writes, in nonpaged memory, and not queued; it stays
/// valid until the routine has run, and it is queued at most once (the routine
/// takes the context back). The item is counted in no [`Rundown`](crate::Rundown):
/// the driver's image stays loaded until the routine has returned (the caller
/// waits for it before its DriverUnload returns, or the driver cannot unload).
pub unsafe fn ex_initialize<R: ExRoutine>(
    item: *mut ffi::WORK_QUEUE_ITEM,
    context: R::Context,
) -> Result<(), AllocError<R::Context>> {
    let parameter = parameter::into_parameter(context)?;
    // SAFETY: `item` is writable and not queued (the contract), and
    // `parameter` holds an `R::Context`, which is what `ex_raw::<R>` takes.
    unsafe { ffi::ExInitializeWorkItem(item, Some(ex_raw::<R>), parameter) };
    Ok(())
}

/// The Ex initializer behind `name::initialize`. Only Ex routines have one, so
/// the stand-in `initialize` of a device- or driver-bound routine fails at the
/// caller's code.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is bound to a device or driver object, so it cannot be initialized as a WORK_QUEUE_ITEM for ExQueueWorkItem",
    label = "an Io routine (device- or driver-bound)",
    note = "Io work goes through IoQueueWorkItem: `{Self}::queue(object, context, queue, irql)` or `ntwork::IoWorkItem<{Self}>`"
)]
pub trait ExInitializer<C> {
    /// See [`ex_initialize`].
    ///
    /// # Safety
    ///
    /// `item` is valid for writes, in nonpaged memory, and not queued; it
    /// stays valid until the routine has run, is queued at most once, and the
    /// driver's image stays loaded until the routine has returned.
    unsafe fn initialize(item: *mut ffi::WORK_QUEUE_ITEM, context: C) -> Result<(), AllocError<C>>;
}

impl<R: ExRoutine> ExInitializer<R::Context> for R {
    unsafe fn initialize(
        item: *mut ffi::WORK_QUEUE_ITEM,
        context: R::Context,
    ) -> Result<(), AllocError<R::Context>> {
        // SAFETY: `item` is writable, nonpaged, unqueued, valid until the
        // routine ran and queued at most once, and the image outlives the
        // routine (this method's contract, which is `ex_initialize`'s).
        unsafe { ex_initialize::<R>(item, context) }
    }
}
