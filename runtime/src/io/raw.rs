//! The raw protocol of Io routines (`raw::io_routine_ex` for `IoQueueWorkItemEx`, the
//! classic `ROUTINE` for `IoQueueWorkItem`), in each binding's ABI, and the
//! one-shot queue of a routine that does not take its item, which is that
//! protocol on an item ntwork allocates: the C shape exactly.

use core::ffi::c_void;

use super::IoRoutineWithoutItem;
use crate::error::AllocError;
use crate::guard::guard;
use crate::irql::Passive;
use crate::objects::{DeviceObject, IoObject};
use crate::{WorkQueue, ffi, parameter};

/// The one-shot Io queue of a routine that does not take its item: the C
/// shape exactly. `IoAllocateWorkItem`, the context alone in pool (none for a
/// zero-sized one), `IoQueueWorkItemEx` with the raw-protocol routine, which
/// frees the context before the body and the item after it. The kernel passes
/// the object and the item back, so the block needs no header.
pub(crate) fn queue_once_without_item<R: IoRoutineWithoutItem>(
    object: &R::Object,
    context: R::Context,
    queue: WorkQueue,
) -> Result<(), AllocError<R::Context>> {
    // SAFETY: `object` is a live device or driver object of this driver (the
    // caller's borrow), as `IoAllocateWorkItem` requires.
    let raw = unsafe { ffi::IoAllocateWorkItem(object.as_io_object().cast()) };
    if raw.is_null() {
        return Err(AllocError(context));
    }
    let parameter = match parameter::into_parameter(context) {
        Ok(parameter) => parameter,
        Err(error) => {
            // SAFETY: just allocated, never queued.
            unsafe { ffi::IoFreeWorkItem(raw) };
            return Err(error);
        }
    };
    // SAFETY: a fresh, unqueued item of `object`, alive for this call (the
    // queue references it from here on); `io_raw_ex::<R>` takes the
    // parameter back once and frees the item, which came from
    // `IoAllocateWorkItem`.
    unsafe {
        ffi::IoQueueWorkItemEx(raw, Some(io_raw_ex::<R>), queue.as_raw(), parameter);
    }
    Ok(())
}

/// `IO_WORKITEM_ROUTINE_EX` of the raw protocol ([`raw::io_routine_ex`](crate::raw::io_routine_ex)).
///
/// # Safety
///
/// `context` came from [`into_parameter`](crate::raw::into_parameter) with an `R::Context` and is
/// taken back once; `item` came from `IoAllocateWorkItem` for `io_object` (an
/// `R::Object`) and is freed here, after the routine.
pub(crate) unsafe extern "system" fn io_raw_ex<R: IoRoutineWithoutItem>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    // SAFETY: the object the kernel passes, an `R::Object` (the contract),
    // referenced by the queue until this returns.
    let object = unsafe { R::Object::from_io_object(io_object) };
    // SAFETY: `context` came from `into_parameter` with an `R::Context` and
    // is taken back here, once (this routine's contract).
    let context = unsafe { parameter::from_parameter::<R::Context>(context) };
    // SAFETY: ntwork's routine for the kernel, on the worker, before the body.
    let mut irql = unsafe { Passive::in_routine() };
    guard(|| R::run_without_item(object, context, &mut irql));
    // SAFETY: `item` came from `IoAllocateWorkItem` and is handed to this
    // routine to free (the contract); the kernel no longer uses it once the
    // routine runs, and it is freed once, here.
    unsafe { ffi::IoFreeWorkItem(item) };
}

/// `IO_WORKITEM_ROUTINE` of the raw protocol for device routines
/// ([`raw::io_routine`](crate::raw::io_routine)).
///
/// # Safety
///
/// `device` is the device object the kernel passes (referenced by the queue);
/// `context` came from [`into_parameter`](crate::raw::into_parameter) with an `R::Context` and is
/// taken back once. The caller keeps and frees the work item.
pub(crate) unsafe extern "system" fn io_classic<R: IoRoutineWithoutItem<Object = DeviceObject>>(
    device: ffi::PDEVICE_OBJECT,
    context: *mut c_void,
) {
    // SAFETY: the device the kernel passes, referenced by the queue until
    // this returns.
    let device = unsafe { DeviceObject::from_raw(device) };
    // SAFETY: `context` came from `into_parameter` with an `R::Context` and
    // is taken back here, once (this routine's contract).
    let context = unsafe { parameter::from_parameter::<R::Context>(context) };
    // SAFETY: ntwork's routine for the kernel, on the worker, before the body.
    let mut irql = unsafe { Passive::in_routine() };
    guard(|| R::run_without_item(device, context, &mut irql));
}

/// [`io_raw_ex`] with the item pointer of any binding.
///
/// # Safety
///
/// `context` came from [`into_parameter`](crate::raw::into_parameter) with an
/// `R::Context` and is taken back once; `item` came from `IoAllocateWorkItem`
/// for `io_object` (an `R::Object`) and is freed here, after the routine.
pub(crate) unsafe extern "system" fn io_raw_ex_system<R: IoRoutineWithoutItem, P>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: *mut P,
) {
    // SAFETY: `context` holds an `R::Context` taken back only here, and
    // `item` is the `IoAllocateWorkItem` item of `io_object` (this routine's
    // contract, which is `io_raw_ex`'s); the item pointer is only cast.
    unsafe { io_raw_ex::<R>(io_object, context, item.cast()) }
}

/// [`io_raw_ex`] in bindgen's ABI.
///
/// # Safety
///
/// `context` came from [`into_parameter`](crate::raw::into_parameter) with an
/// `R::Context` and is taken back once; `item` came from `IoAllocateWorkItem`
/// for `io_object` (an `R::Object`) and is freed here, after the routine.
#[cfg(not(target_arch = "x86"))]
pub(crate) unsafe extern "C" fn io_raw_ex_c<R: IoRoutineWithoutItem, P>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: *mut P,
) {
    // SAFETY: `context` holds an `R::Context` taken back only here, and
    // `item` is the `IoAllocateWorkItem` item of `io_object` (this routine's
    // contract, which is `io_raw_ex`'s); the item pointer is only cast.
    unsafe { io_raw_ex::<R>(io_object, context, item.cast()) }
}

/// [`io_classic`] with the device pointer of any binding.
///
/// # Safety
///
/// `device` is the device object the kernel passes (referenced by the queue);
/// `context` came from [`into_parameter`](crate::raw::into_parameter) with an
/// `R::Context` and is taken back once. The caller keeps and frees the work
/// item.
pub(crate) unsafe extern "system" fn io_classic_system<
    R: IoRoutineWithoutItem<Object = DeviceObject>,
    D,
>(
    device: *mut D,
    context: *mut c_void,
) {
    // SAFETY: `device` is the queued device object and `context` holds an
    // `R::Context` taken back only here (this routine's contract, which is
    // `io_classic`'s); the device pointer is only cast.
    unsafe { io_classic::<R>(device.cast(), context) }
}

/// [`io_classic`] in bindgen's ABI.
///
/// # Safety
///
/// `device` is the device object the kernel passes (referenced by the queue);
/// `context` came from [`into_parameter`](crate::raw::into_parameter) with an
/// `R::Context` and is taken back once. The caller keeps and frees the work
/// item.
#[cfg(not(target_arch = "x86"))]
pub(crate) unsafe extern "C" fn io_classic_c<R: IoRoutineWithoutItem<Object = DeviceObject>, D>(
    device: *mut D,
    context: *mut c_void,
) {
    // SAFETY: `device` is the queued device object and `context` holds an
    // `R::Context` taken back only here (this routine's contract, which is
    // `io_classic`'s); the device pointer is only cast.
    unsafe { io_classic::<R>(device.cast(), context) }
}

/// [`io_raw_ex`] spelled `extern "stdcall"` (bindgen's x86 shape), with the
/// item pointer of any binding.
///
/// # Safety
///
/// `io_object` is the object the kernel passes (referenced by the queue until
/// this returns); `context` came from [`into_parameter`](crate::raw::into_parameter)
/// with an `R::Context` and is taken back once; `item` came from
/// `IoAllocateWorkItem` for `io_object` and is handed to this routine, which
/// frees it.
#[cfg(target_arch = "x86")]
pub(crate) unsafe extern "stdcall" fn io_raw_ex_stdcall<R: IoRoutineWithoutItem, P>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: *mut P,
) {
    // SAFETY: this routine's contract is `io_raw_ex`'s; the item pointer is
    // only passed on, as the `IO_WORKITEM` it is.
    unsafe { io_raw_ex::<R>(io_object, context, item.cast()) }
}

/// [`io_classic`] spelled `extern "stdcall"` (bindgen's x86 shape), with the
/// device pointer of any binding.
///
/// # Safety
///
/// `device` is the device object the kernel passes (referenced by the queue
/// until this returns); `context` came from
/// [`into_parameter`](crate::raw::into_parameter) with an `R::Context` and is
/// taken back once.
#[cfg(target_arch = "x86")]
pub(crate) unsafe extern "stdcall" fn io_classic_stdcall<
    R: IoRoutineWithoutItem<Object = DeviceObject>,
    D,
>(
    device: *mut D,
    context: *mut c_void,
) {
    // SAFETY: this routine's contract is `io_classic`'s; the device pointer
    // is only passed on, as the `DEVICE_OBJECT` it is.
    unsafe { io_classic::<R>(device.cast(), context) }
}
