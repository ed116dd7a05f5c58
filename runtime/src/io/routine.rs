//! The Io routines that leave their item to its owner: what a reusable item
//! and the raw protocol run.

use super::IoRoutine;
use crate::irql::Passive;

/// An Io routine that leaves its work item to its owner (declared without the
/// item parameter). Such a routine can run from a [`ReusableIoWorkItem`](super::ReusableIoWorkItem), and
/// through the raw protocol (`raw::io_routine_ex`, and for device routines the classic
/// `IoQueueWorkItem` routine).
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes its own work item, so it cannot run from an item someone else owns",
    label = "takes its own work item",
    note = "a `ReusableIoWorkItem` stays with its owner: declare the routine without the item parameter, `fn(object, context)`, and reach the reusable item through the context (an `Arc` of the state that holds it)"
)]
pub trait IoRoutineWithoutItem: IoRoutine {
    /// Runs the routine on a worker thread at `PASSIVE_LEVEL`.
    fn run_without_item(object: &Self::Object, context: Self::Context, irql: &mut Passive<'_>);
}
