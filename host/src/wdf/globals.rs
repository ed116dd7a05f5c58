//! `WdfDriverGlobals`, and the framework's checks of the handles and
//! pointers a driver passes: bug check 0x10D WDF_VIOLATION with KMDF's
//! parameters (`FxObjectHandleGetPtr`, `FxVerifierNullBugCheck`,
//! `FxVerifierBugCheckWorker`: P4 is the driver's globals).

#![allow(non_upper_case_globals)]

use core::ptr::null_mut;

use ntwork_sys::wdf::{PWDF_DRIVER_GLOBALS, WDF_DRIVER_GLOBALS};

use super::object::{FX_TYPE_OBJECT, lock};
use crate::binding::current;
use crate::bugcheck::{
    BugCheck, HOST_IRQL_ABOVE_DISPATCH, HOST_IRQL_TOO_HIGH, HOST_UNKNOWN_OBJECT,
    HOST_WDF_VERIFIER_BREAK, WDF_VIOLATION,
};
use crate::irql::current_irql;

/// `WDF_REQUIRED_PARAMETER_IS_NULL` (`wdfbugcodes.h`).
pub(super) const WDF_REQUIRED_PARAMETER_IS_NULL: usize = 4;
/// `WDF_INVALID_HANDLE`.
pub(super) const WDF_INVALID_HANDLE: usize = 5;

static mut GLOBALS: WDF_DRIVER_GLOBALS = WDF_DRIVER_GLOBALS {
    Driver: null_mut(),
    DriverFlags: 0,
    DriverTag: 0,
    DriverName: [0; 32],
    DisplaceDriverUnload: 0,
};

/// The driver's framework globals.
#[unsafe(no_mangle)]
pub static mut WdfDriverGlobals: PWDF_DRIVER_GLOBALS = &raw mut GLOBALS;

/// Parameter 4 of 0x10D: the driver's globals.
fn globals() -> usize {
    (&raw const GLOBALS).addr()
}

/// Raises `bug_check` on the calling thread's executive.
pub(super) fn raise(bug_check: BugCheck) {
    current().raise(bug_check);
}

/// 0x10D (4, 0, caller, globals) for a NULL required pointer. Windows gives
/// the caller's return address as parameter 3; the host gives the WDF
/// function's own address.
pub(super) fn null_parameter<T>(pointer: *const T, export: usize) -> bool {
    if !pointer.is_null() {
        return false;
    }
    raise(BugCheck::new(
        WDF_VIOLATION,
        [WDF_REQUIRED_PARAMETER_IS_NULL, 0, export, globals()],
    ));
    true
}

/// `FxObjectHandleGetPtr(handle, fx_type)`: the handle's object, or the
/// framework's verdict: a NULL handle is 0x10D (5, 0, type, globals), a live
/// object of another type (5, handle, type, globals). A handle the host does
/// not know (never made, or destroyed) is the host diagnostic
/// `HOST_UNKNOWN_OBJECT`: Windows would read the memory as an object.
pub(super) fn object_of<T>(handle: *mut T, fx_type: u16, export: usize) -> Option<usize> {
    if handle.is_null() {
        let bad = [WDF_INVALID_HANDLE, 0, fx_type.into(), globals()];
        raise(BugCheck::new(WDF_VIOLATION, bad));
        return None;
    }
    let found = lock().objects.get(&handle.addr()).map(|o| o.fx_type());
    match found {
        Some(found) if fx_type == FX_TYPE_OBJECT || found == fx_type => Some(handle.addr()),
        Some(_) => {
            let bad = [WDF_INVALID_HANDLE, handle.addr(), fx_type.into(), globals()];
            raise(BugCheck::new(WDF_VIOLATION, bad));
            None
        }
        None => {
            let bad = [export, handle.addr(), 0, 0];
            raise(BugCheck::new(HOST_UNKNOWN_OBJECT, bad));
            None
        }
    }
}

/// A host diagnostic if the caller is above `limit` (the framework's
/// documented IRQL; KMDF checks it only under its verifier).
pub(super) fn irql_above(export: usize, object: usize, limit: u8) -> bool {
    let irql = current_irql();
    if irql <= limit {
        return false;
    }
    let bad = if limit == ntwork_sys::DISPATCH_LEVEL {
        BugCheck::new(HOST_IRQL_ABOVE_DISPATCH, [export, irql.into(), object, 0])
    } else {
        BugCheck::new(
            HOST_IRQL_TOO_HIGH,
            [export, irql.into(), object, limit.into()],
        )
    };
    raise(bad);
    true
}

/// `FxVerifierDbgBreakPoint`: a break into the debugger when the KMDF
/// verifier is on with DbgBreakOnError (the host diagnostic
/// `HOST_WDF_VERIFIER_BREAK`), else nothing (a trace message only).
pub(super) fn verifier_break(reason: usize, object: usize, export: usize) {
    let inner = current();
    let mut st = inner.lock();
    if st.kmdf_verifier {
        let bad = BugCheck::new(HOST_WDF_VERIFIER_BREAK, [reason, object, export, 0]);
        inner.raise_locked(&mut st, bad);
    }
}
