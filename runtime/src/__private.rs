//! What `#[work_item]` expansions call. Not a public API: names and signatures
//! change without notice. The top of the crate: it uses the paths, nothing
//! uses it.

use crate::error::{AllocError, QueueError};
use crate::irql::{AtMostDispatch, verify};
use crate::{ExRoutine, IoRoutine, IoRoutineWithoutItem, Rundown, WorkQueue};

pub use core;
pub use ntwork_macros::__with_items as with_items;

pub use crate::ex::raw::{ExInitializer, ex_initialize};
pub use crate::ex::{ExRoutineNeverUnloads, ExRoutineRundown};

/// Allocates and queues a one-shot Ex item counted in `rundown`; on failure the
/// context comes back.
pub fn ex_queue<R: ExRoutine>(
    rundown: &'static Rundown,
    context: R::Context,
    queue: WorkQueue,
    irql: &impl AtMostDispatch,
) -> Result<(), QueueError<R::Context>> {
    verify(irql, "name::queue");
    crate::ex::queue_once::<R>(rundown, context, queue)
}

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
    irql: &impl AtMostDispatch,
) -> Result<(), AllocError<R::Context>> {
    verify(irql, "name::queue");
    crate::ex::queue_once_uncounted::<R>(context, queue)
}

/// Allocates and queues a one-shot Ex item counted in the routine's own
/// rundown (`#[work_item(rundown = WORK)]`); on failure the context comes back.
pub fn ex_queue_counted<R: ExRoutineRundown>(
    context: R::Context,
    queue: WorkQueue,
    irql: &impl AtMostDispatch,
) -> Result<(), QueueError<R::Context>> {
    verify(irql, "name::queue");
    crate::ex::queue_once_counted::<R>(context, queue)
}

/// Allocates and queues a one-shot Io item (see `io::queue_once`).
pub fn io_queue<R: IoRoutine>(
    object: &R::Object,
    context: R::Context,
    queue: WorkQueue,
    irql: &impl AtMostDispatch,
) -> Result<(), AllocError<R::Context>> {
    verify(irql, "name::queue");
    crate::io::queue_once::<R>(object, context, queue)
}

/// Allocates and queues a one-shot Io item of a routine that does not take
/// its item: only the context goes to pool (see `io::queue_once_without_item`).
pub fn io_queue_without_item<R: IoRoutineWithoutItem>(
    object: &R::Object,
    context: R::Context,
    queue: WorkQueue,
    irql: &impl AtMostDispatch,
) -> Result<(), AllocError<R::Context>> {
    verify(irql, "name::queue");
    crate::io::queue_once_without_item::<R>(object, context, queue)
}
