//! After an error: the role's plan as stand-ins. Same traits, same helper
//! signatures (so the user's calls still type-check and add no errors),
//! bodies `loop {}` and parameters `_`-named; the helpers that only make
//! sense for a valid routine are left out. The context keeps the user's type
//! wherever it is valid (`Frame`).
//!
//! One mistake has two readings, and its stand-in serves both: an Io routine
//! that borrows its context (reported) is the Io routine with the context
//! the fix names (`C` for `&C`), or an Ex routine that borrows it from a
//! reusable item, so it also implements `ExRoutine` and `ExRoutineRef`.

use super::ex;
use super::frame::{Frame, Names};
use super::plan::{Kept, Plan};
use crate::model::Role;

pub(super) fn plan(frame: &Frame<'_>) -> Plan {
    let names = Names::unused();
    let mut plan = super::roles::plan(frame, &names);
    plan.helpers.retain(|helper| helper.kept == Kept::Always);
    if let Role::Io(io) = &frame.routine.role
        && io.context.as_ref().is_some_and(|context| context.borrowed)
    {
        plan.impls.extend(ex::role_impls(frame, &names, true));
    }
    plan
}
