//! Which role plans a routine.

use super::frame::{Frame, Names};
use super::plan::Plan;
use super::{ex, io, wdf};
use crate::model::Role;

/// The role's plan for the routine, its parameters named by `names`.
pub(super) fn plan(frame: &Frame<'_>, names: &Names) -> Plan {
    match &frame.routine.role {
        Role::Ex(ex) => ex::plan(frame, ex, names),
        Role::Io(io) => io::plan(frame, io, names),
        Role::Wdf(wdf) => wdf::plan(frame, wdf, names),
    }
}
