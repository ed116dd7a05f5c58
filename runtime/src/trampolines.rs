//! Every `extern "system"` routine ntwork hands the kernel, in one place.
//!
//! Each takes back what its queueing side gave up (a pool block, an `Arc`
//! reference, a rundown acquisition), runs the routine inside
//! [`guard`](crate::__private::guard) so a panic never unwinds into the kernel,
//! and releases what must be released *after* the routine: rundown protection
//! last, because after it the driver image may be unloaded.

use core::ffi::c_void;
use core::ptr::NonNull;

use crate::__private::guard;
use crate::ex::{ExBlock, ReusableExWorkItem};
use crate::held;
use crate::io::{IoBlock, ReusableIoBlock, RunningIoWorkItem};
use crate::{ExRoutine, ExRoutineRef, IoObject, IoRoutine, IoRoutineWithoutItem, ffi, pool, raw};

/// `WORKER_THREAD_ROUTINE` of the raw protocol ([`ExRoutine::ROUTINE`]).
///
/// # Safety
///
/// `parameter` came from [`raw::into_parameter`] with an `R::Context`, and this
/// is the one call that takes it back.
pub(crate) unsafe extern "system" fn ex_raw<R: ExRoutine>(parameter: *mut c_void) {
    // SAFETY: the function's contract.
    let context = unsafe { raw::from_parameter::<R::Context>(parameter) };
    guard(|| R::run(context));
}

/// Takes a one-shot Ex block back from the kernel: reads its context and
/// rundown slot out, and frees it (before the routine runs, as C does).
///
/// # Safety
///
/// `parameter` is an `ExBlock<C, S>` queued once with its context written,
/// just dequeued by a worker: ownership comes back here, once.
#[inline(always)]
unsafe fn take_block<C, S: Copy>(parameter: *mut c_void) -> (C, S) {
    let block = parameter.cast::<ExBlock<C, S>>();
    // SAFETY: the caller's contract; the block is read before it is freed.
    unsafe {
        let taken = ExBlock::take(block);
        pool::free_for(NonNull::new_unchecked(block));
        taken
    }
}

/// `WORKER_THREAD_ROUTINE` of [`ExWorkItem<R>`](crate::ExWorkItem): `parameter`
/// is its block.
///
/// # Safety
///
/// `parameter` is the block of an `ExWorkItem<R>` that `queue` handed to the
/// kernel with its rundown acquired, just dequeued by a worker.
pub(crate) unsafe extern "system" fn ex_block<R: ExRoutine>(parameter: *mut c_void) {
    // SAFETY: the function's contract: the block `queue` handed over, with
    // its rundown stored.
    let (context, rundown) = unsafe { take_block::<R::Context, *const crate::Rundown>(parameter) };
    // SAFETY: `queue` stored a `&'static Rundown`.
    let rundown = unsafe { &*rundown };
    // The context is consumed (and dropped) inside the routine's call.
    let held = [Some(rundown.drain()), None];
    held::running(held, || guard(|| R::run(context)));
    // SAFETY: `queue` acquired this rundown for this item; released once,
    // after everything that runs in the driver image for it.
    unsafe { rundown.release() };
}

/// `WORKER_THREAD_ROUTINE` of a one-shot item of a routine that names its
/// rundown ([`ExRoutineRundown`](crate::ex::ExRoutineRundown)).
///
/// # Safety
///
/// `parameter` is the `ExBlock<R::Context, ()>` that `queue_once_counted`
/// queued, counted in `R::RUNDOWN`.
pub(crate) unsafe extern "system" fn ex_counted_block<R: crate::ex::ExRoutineRundown>(
    parameter: *mut c_void,
) {
    // SAFETY: the function's contract: the block `queue_once_counted` queued.
    let (context, ()) = unsafe { take_block::<R::Context, ()>(parameter) };
    held::running([Some(R::RUNDOWN.drain()), None], || {
        guard(|| R::run(context))
    });
    // SAFETY: `queue_once_counted` acquired `R::RUNDOWN` for this item;
    // released once, after everything that runs in the image for it.
    unsafe { R::RUNDOWN.release() };
}

/// `WORKER_THREAD_ROUTINE` of a one-shot item of a driver that cannot unload
/// ([`ExRoutineNeverUnloads`](crate::ex::ExRoutineNeverUnloads)).
///
/// # Safety
///
/// `parameter` is the `ExBlock<R::Context, ()>` that `queue_once_uncounted`
/// queued.
pub(crate) unsafe extern "system" fn ex_uncounted_block<R: crate::ex::ExRoutineNeverUnloads>(
    parameter: *mut c_void,
) {
    // SAFETY: the function's contract: the block `queue_once_uncounted` queued.
    let (context, ()) = unsafe { take_block::<R::Context, ()>(parameter) };
    guard(|| R::run(context));
}

/// `WORKER_THREAD_ROUTINE` of a `&'static ReusableExWorkItem<R>`.
///
/// # Safety
///
/// `parameter` is a `&'static ReusableExWorkItem<R>` whose claim was queued.
pub(crate) unsafe extern "system" fn ex_reusable_static<R: ExRoutineRef>(parameter: *mut c_void) {
    // SAFETY: the function's contract.
    let item = unsafe { &*parameter.cast::<ReusableExWorkItem<R>>() };
    item.unclaim_before_run();
    held::running(item.drains(), || guard(|| R::run_ref(item.context())));
    // SAFETY: the claim this run consumes acquired both.
    unsafe { item.release_after_run() };
}

/// `WORKER_THREAD_ROUTINE` of an `Arc<ReusableExWorkItem<R>>`.
///
/// # Safety
///
/// `parameter` is a strong reference leaked by `ReusableExWorkItem::queue`,
/// whose claim was queued.
#[cfg(feature = "alloc")]
pub(crate) unsafe extern "system" fn ex_reusable_arc<R: ExRoutineRef>(parameter: *mut c_void) {
    // SAFETY: the leaked reference is taken back here, once.
    let item = unsafe {
        alloc::sync::Arc::from_raw(parameter.cast_const().cast::<ReusableExWorkItem<R>>())
    };
    item.unclaim_before_run();
    held::running(item.drains(), || guard(|| R::run_ref(item.context())));
    let rundown = item.rundown();
    // SAFETY: the claim acquired the item's flush protection.
    unsafe { item.release_flush() };
    // The last reference may go here: its drop runs the context's destructor,
    // driver code, so it stays inside the guard and inside the rundown.
    guard(move || drop(item));
    // SAFETY: the claim acquired the driver's rundown; released last.
    unsafe { rundown.release() };
}

/// `IO_WORKITEM_ROUTINE_EX` of [`IoWorkItem<R>`](crate::IoWorkItem) and of the
/// one-shot `queue` helper of a routine that takes its item: `context` is the
/// item's block. (A routine without its item is queued one-shot with
/// [`io_raw_ex`], the context alone in pool.)
///
/// # Safety
///
/// Called by the kernel for an item queued by ntwork for routine `R`:
/// `context` is its [`IoBlock`] holding the context, `item` the (non-null)
/// `IO_WORKITEM` that was queued, `io_object` the object the item is bound
/// to, referenced by the queue until this returns.
pub(crate) unsafe extern "system" fn io_block<R: IoRoutine>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    let block = context.cast::<IoBlock<R::Context>>();
    // SAFETY: the function's contract: the block holds the context, taken back
    // once; `item` is its item, from the kernel; the object lives until this
    // returns (the queue's reference).
    let (object, context, running) = unsafe {
        let object = R::Object::from_io_object(io_object);
        let context = IoBlock::take_context(block);
        (
            object,
            context,
            RunningIoWorkItem::<R>::new(
                NonNull::new_unchecked(block),
                NonNull::new_unchecked(item),
                object,
            ),
        )
    };
    guard(|| R::run(object, context, running));
}

/// `IO_WORKITEM_ROUTINE_EX` of [`ReusableIoWorkItem<R>`](crate::ReusableIoWorkItem).
///
/// # Safety
///
/// As for [`io_block`], for a `ReusableIoBlock` queued by `ReusableIoWorkItem::queue`.
pub(crate) unsafe extern "system" fn io_reusable<R: IoRoutineWithoutItem>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    let _ = item;
    let block = context.cast::<ReusableIoBlock<R::Context>>();
    // SAFETY: the function's contract; `start_run` takes the context the
    // queueing call stored and marks the item running.
    let (object, context) = unsafe {
        (
            R::Object::from_io_object(io_object),
            ReusableIoBlock::start_run(block),
        )
    };
    // SAFETY: the block lives until `finish_run`.
    let held = [Some(unsafe { ReusableIoBlock::flush_drain(block) }), None];
    held::running(held, || guard(|| R::run_without_item(object, context)));
    // SAFETY: the run started above ends here, once.
    unsafe { ReusableIoBlock::finish_run(block) };
}

/// `IO_WORKITEM_ROUTINE_EX` of the raw protocol ([`IoRoutineWithoutItem::ROUTINE_EX`]).
///
/// # Safety
///
/// `context` came from [`raw::into_parameter`] with an `R::Context` and is
/// taken back once; `item` came from `IoAllocateWorkItem` for `io_object` and
/// is freed here, after the routine.
pub(crate) unsafe extern "system" fn io_raw_ex<R: IoRoutineWithoutItem>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: ffi::PIO_WORKITEM,
) {
    // SAFETY: the function's contract.
    let (object, context) = unsafe {
        (
            R::Object::from_io_object(io_object),
            raw::from_parameter::<R::Context>(context),
        )
    };
    guard(|| R::run_without_item(object, context));
    // SAFETY: the caller handed the allocated item to this routine.
    unsafe { ffi::IoFreeWorkItem(item) };
}

/// `IO_WORKITEM_ROUTINE` of the raw protocol for device routines
/// ([`IoClassicRoutine::ROUTINE`](crate::__private::IoClassicRoutine::ROUTINE)).
///
/// # Safety
///
/// `device` is the device object the kernel passes (referenced by the queue);
/// `context` came from [`raw::into_parameter`] with an `R::Context` and is
/// taken back once. The caller keeps and frees the work item.
pub(crate) unsafe extern "system" fn io_classic<R: crate::__private::IoClassicRoutine>(
    device: ffi::PDEVICE_OBJECT,
    context: *mut c_void,
) {
    // SAFETY: the function's contract.
    let (device, context) = unsafe {
        (
            crate::DeviceObject::from_raw(device),
            raw::from_parameter::<R::Context>(context),
        )
    };
    guard(|| R::run_without_item(device, context));
}

/// The raw-protocol trampolines again, in the ABIs other bindings declare
/// ([`crate::abi`]): each forwards to the one above, so the behaviour and its
/// safety contract are the same. Object and item pointers are generic because
/// each binding names its own pointee types.
///
/// # Safety
///
/// As for [`ex_raw`].
#[cfg(not(target_arch = "x86"))]
pub(crate) unsafe extern "C" fn ex_raw_c<R: ExRoutine>(parameter: *mut c_void) {
    // SAFETY: the same contract as `ex_raw`.
    unsafe { ex_raw::<R>(parameter) }
}

/// [`io_raw_ex`] with the item pointer of any binding.
///
/// # Safety
///
/// As for [`io_raw_ex`].
pub(crate) unsafe extern "system" fn io_raw_ex_system<R: IoRoutineWithoutItem, P>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: *mut P,
) {
    // SAFETY: the same contract; the item pointer is only passed on.
    unsafe { io_raw_ex::<R>(io_object, context, item.cast()) }
}

/// [`io_raw_ex`] in bindgen's ABI.
///
/// # Safety
///
/// As for [`io_raw_ex`].
#[cfg(not(target_arch = "x86"))]
pub(crate) unsafe extern "C" fn io_raw_ex_c<R: IoRoutineWithoutItem, P>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: *mut P,
) {
    // SAFETY: the same contract; the item pointer is only passed on.
    unsafe { io_raw_ex::<R>(io_object, context, item.cast()) }
}

/// [`io_classic`] with the device pointer of any binding.
///
/// # Safety
///
/// As for [`io_classic`].
pub(crate) unsafe extern "system" fn io_classic_system<R: crate::__private::IoClassicRoutine, D>(
    device: *mut D,
    context: *mut c_void,
) {
    // SAFETY: the same contract; the device pointer is only passed on.
    unsafe { io_classic::<R>(device.cast(), context) }
}

/// [`io_classic`] in bindgen's ABI.
///
/// # Safety
///
/// As for [`io_classic`].
#[cfg(not(target_arch = "x86"))]
pub(crate) unsafe extern "C" fn io_classic_c<R: crate::__private::IoClassicRoutine, D>(
    device: *mut D,
    context: *mut c_void,
) {
    // SAFETY: the same contract; the device pointer is only passed on.
    unsafe { io_classic::<R>(device.cast(), context) }
}

/// [`ex_raw`] spelled `extern "stdcall"`, as bindgen declares x86 callbacks
/// (`"system"` is stdcall there too, but Rust types the two ABIs apart).
///
/// # Safety
///
/// As for [`ex_raw`].
#[cfg(target_arch = "x86")]
pub(crate) unsafe extern "stdcall" fn ex_raw_stdcall<R: ExRoutine>(parameter: *mut c_void) {
    // SAFETY: the same contract as `ex_raw`.
    unsafe { ex_raw::<R>(parameter) }
}

/// [`io_raw_ex`] spelled `extern "stdcall"` (bindgen's x86 shape).
///
/// # Safety
///
/// As for [`io_raw_ex`].
#[cfg(target_arch = "x86")]
pub(crate) unsafe extern "stdcall" fn io_raw_ex_stdcall<R: IoRoutineWithoutItem, P>(
    io_object: *mut c_void,
    context: *mut c_void,
    item: *mut P,
) {
    // SAFETY: the same contract; the item pointer is only passed on.
    unsafe { io_raw_ex::<R>(io_object, context, item.cast()) }
}

/// [`io_classic`] spelled `extern "stdcall"` (bindgen's x86 shape).
///
/// # Safety
///
/// As for [`io_classic`].
#[cfg(target_arch = "x86")]
pub(crate) unsafe extern "stdcall" fn io_classic_stdcall<
    R: crate::__private::IoClassicRoutine,
    D,
>(
    device: *mut D,
    context: *mut c_void,
) {
    // SAFETY: the same contract; the device pointer is only passed on.
    unsafe { io_classic::<R>(device.cast(), context) }
}

/// `EVT_WDF_WORKITEM` of [`WdfRoutine`](crate::wdf::WdfRoutine): clears the
/// item's queued flag, then runs the routine with the running handle.
///
/// # Safety
///
/// Called by the framework for an item created by `WdfWorkItem::<R>::create`.
#[cfg(feature = "wdf")]
pub(crate) unsafe extern "system" fn wdf_work_item<R: crate::wdf::WdfRoutine>(
    handle: ffi::wdf::WDFWORKITEM,
) {
    // SAFETY: the function's contract: a live item of `R`, its callback starting.
    let running = unsafe {
        crate::wdf::unqueue::<R>(handle);
        crate::wdf::RunningWdfWorkItem::<R>::new(handle)
    };
    guard(|| R::run(&running));
}

/// `EVT_WDF_OBJECT_CONTEXT_CLEANUP` of a `WdfWorkItem<R>`: drops the context.
///
/// # Safety
///
/// Called by the framework once, when the item of `R` is deleted.
#[cfg(feature = "wdf")]
pub(crate) unsafe extern "system" fn wdf_cleanup<R: crate::wdf::WdfRoutine>(
    object: ffi::wdf::WDFOBJECT,
) {
    // The context's destructor is driver code: inside the guard.
    // SAFETY: the function's contract.
    guard(|| unsafe { crate::wdf::drop_context::<R>(object) });
}
