//! The Ex role: what a routine must be to run from `ExQueueWorkItem`.

use crate::Routine;
use crate::irql::Passive;
use crate::rundown::Rundown;

/// A routine that may run on the Ex path (`ExQueueWorkItem`).
///
/// `#[work_item]` implements it for a function that is not device-bound. The
/// trait is safe, and nothing in it is trusted for memory safety: the routine
/// ntwork hands the kernel is its own generic function (see
/// [`raw::ex_routine`](crate::raw::ex_routine)), so an impl written by hand
/// can only be wrong, never unsound.
///
/// A device-bound routine does not implement this trait, so every Ex API
/// rejects it at compile time.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be queued on the Ex path (ExQueueWorkItem)",
    label = "not an Ex routine",
    note = "a device- or driver-bound routine goes through IoQueueWorkItem: use `ntwork::IoWorkItem<{Self}>` or `{Self}::queue(object, context, queue)`",
    note = "Ex routines are made with `#[work_item]` on `fn(context)`, `fn(&context)` or `fn()`"
)]
pub trait ExRoutine: Routine {
    /// Runs the routine on a worker thread at `PASSIVE_LEVEL`, consuming the context.
    /// `irql` proves `PASSIVE_LEVEL`, where every routine runs.
    fn run(context: Self::Context, irql: &mut Passive<'_>);
}

/// An Ex routine that only borrows its context, so a [`ReusableExWorkItem`](super::ReusableExWorkItem) can
/// run it many times. `#[work_item]` implements it for `fn(&context)` and `fn()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run from a reusable Ex work item",
    label = "not an Ex routine that borrows its context",
    note = "a reusable item runs its routine many times, so the routine must borrow its context: declare it as `fn(context: &T)` (or `fn()`), or use the one-shot `ntwork::ExWorkItem`",
    note = "a device-bound routine goes through IoQueueWorkItem: use `ntwork::ReusableIoWorkItem<{Self}>`"
)]
pub trait ExRoutineRef: ExRoutine {
    /// Runs the routine with a shared reference to the item's context.
    fn run_ref(context: &Self::Context, irql: &mut Passive<'_>);
}

/// An Ex routine whose one-shot items count in a rundown named in its type
/// (`#[work_item(rundown = WORK)]`): the trampoline releases `RUNDOWN`
/// itself, so the block does not carry it.
#[doc(hidden)]
pub trait ExRoutineRundown: ExRoutine {
    /// The `static` the routine's one-shot items count in.
    const RUNDOWN: &'static Rundown;
}

/// An Ex routine of a driver that cannot be unloaded
/// (`#[work_item(unsafe(never_unloads))]`): its one-shot items count nowhere.
/// The claim is the `unsafe` of the generated `queue`'s call (at the user's
/// `unsafe` token), as for [`Rundown::never_unloads`](crate::Rundown::never_unloads).
#[doc(hidden)]
pub trait ExRoutineNeverUnloads: ExRoutine {}
