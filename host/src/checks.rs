//! The checks the work-item functions share, each raising the kernel's bug
//! check or a labelled host diagnostic and saying whether it did.

use core::ffi::c_void;

use ntwork_sys::{DISPATCH_LEVEL, WORK_QUEUE_TYPE};

use crate::bugcheck::{
    BugCheck, HOST_IRQL_ABOVE_DISPATCH, HOST_NEGATIVE_QUEUE_TYPE, HOST_NOT_IN_TARGET,
    HOST_NULL_WORK_ITEM, WORKER_INVALID,
};
use crate::irql::current_irql;
use crate::state::{Inner, State};
use crate::version::WindowsVersion;

/// `WORKER_INVALID` for a queue call: (subcode, item, queue type, 0).
pub(crate) fn queue_invalid(subcode: usize, item: usize, queue_type: WORK_QUEUE_TYPE) -> BugCheck {
    BugCheck::new(WORKER_INVALID, [subcode, item, queue_type as usize, 0])
}

/// A host diagnostic if the caller is above DISPATCH_LEVEL (the retail
/// kernel documents the limit but does not check it).
pub(crate) fn irql_too_high(inner: &Inner, st: &mut State, address: usize, export: usize) -> bool {
    let irql = current_irql();
    if irql <= DISPATCH_LEVEL {
        return false;
    }
    inner.raise_locked(
        st,
        BugCheck::new(HOST_IRQL_ABOVE_DISPATCH, [export, irql.into(), address, 0]),
    );
    true
}

/// A host diagnostic for a NULL item.
pub(crate) fn null_item(inner: &Inner, st: &mut State, item: *const c_void, export: usize) -> bool {
    if !item.is_null() {
        return false;
    }
    inner.raise_locked(st, BugCheck::new(HOST_NULL_WORK_ITEM, [export, 0, 0, 0]));
    true
}

/// A host diagnostic for a negative queue type (the kernel's signed compare
/// lets it through).
pub(crate) fn negative_queue_type(
    inner: &Inner,
    st: &mut State,
    item: usize,
    queue_type: WORK_QUEUE_TYPE,
) -> bool {
    if queue_type >= 0 {
        return false;
    }
    inner.raise_locked(
        st,
        BugCheck::new(HOST_NEGATIVE_QUEUE_TYPE, [item, queue_type as usize, 0, 0]),
    );
    true
}

/// A host diagnostic when `export` does not exist on the executive's target.
pub(crate) fn not_in_target(
    inner: &Inner,
    st: &mut State,
    since: WindowsVersion,
    export: usize,
) -> bool {
    if st.target >= since {
        return false;
    }
    let target = st.target.number();
    inner.raise_locked(
        st,
        BugCheck::new(HOST_NOT_IN_TARGET, [export, target, 0, 0]),
    );
    true
}
