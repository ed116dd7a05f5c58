//! The function table a KMDF driver calls through, under each KMDF version's
//! name (`WdfFunctions_01015`, `_01031`, `_01033`: one table; the indices
//! never move, the enum only grows), and the object functions: delete,
//! reference and dereference, and context space.

#![allow(non_snake_case, non_upper_case_globals)]

use core::ffi::{c_char, c_void};
use core::ptr::null_mut;

use ntwork_sys::wdf::{
    self as w, PCWDF_OBJECT_CONTEXT_TYPE_INFO, PWDF_DRIVER_GLOBALS, WDFFUNC, WDFOBJECT,
};
use ntwork_sys::{DISPATCH_LEVEL, NTSTATUS, STATUS_SUCCESS};

use super::globals::{irql_above, null_parameter, object_of, verifier_break};
use super::lifetime::{delete, delete_deferred_above_passive, reference, release};
use super::object::{FX_TYPE_OBJECT, Kind, Lifecycle, find_context, lock};
use super::status;
use super::validate::object_attributes;
use super::workitem::{
    WdfWorkItemCreate, WdfWorkItemEnqueue, WdfWorkItemFlush, WdfWorkItemGetParentObject,
    new_context,
};

/// `WdfObjectDelete`: disposes the object and its children inside the call
/// (cleanup callbacks included, also from the object's own callback); the
/// memory goes at the last reference. A work item deleted above
/// PASSIVE_LEVEL is disposed later, at PASSIVE_LEVEL, as KMDF defers it. A
/// device (a PnP device's object) does not allow it: a verifier break,
/// nothing deleted.
unsafe extern "system" fn WdfObjectDelete(_: PWDF_DRIVER_GLOBALS, Object: WDFOBJECT) {
    let export = WdfObjectDelete as *const () as usize;
    let Some(handle) = object_of(Object, FX_TYPE_OBJECT, export) else {
        return;
    };
    if irql_above(export, handle, DISPATCH_LEVEL) {
        return;
    }
    let device = lock()
        .objects
        .get(&handle)
        .is_some_and(|o| matches!(o.kind, Kind::Device(_)));
    if device {
        return verifier_break(3, handle, export);
    }
    if delete_deferred_above_passive(handle) {
        return;
    }
    delete(handle, export);
}

/// `WdfObjectReferenceActual`: one more reference (NULL: 0x10D/4).
unsafe extern "system" fn WdfObjectReferenceActual(
    _: PWDF_DRIVER_GLOBALS,
    Handle: WDFOBJECT,
    _tag: *mut c_void,
    _line: i32,
    _file: *const c_char,
) {
    let export = WdfObjectReferenceActual as *const () as usize;
    if null_parameter(Handle, export) {
        return;
    }
    if let Some(handle) = object_of(Handle, FX_TYPE_OBJECT, export) {
        reference(handle);
    }
}

/// `WdfObjectDereferenceActual`: drops a reference; the last one destroys
/// the object (its destroy callbacks, then its memory).
unsafe extern "system" fn WdfObjectDereferenceActual(
    _: PWDF_DRIVER_GLOBALS,
    Handle: WDFOBJECT,
    _tag: *mut c_void,
    _line: i32,
    _file: *const c_char,
) {
    let export = WdfObjectDereferenceActual as *const () as usize;
    if null_parameter(Handle, export) {
        return;
    }
    if let Some(handle) = object_of(Handle, FX_TYPE_OBJECT, export) {
        release(handle);
    }
}

/// `WdfObjectGetTypedContextWorker`: the context of that type, or NULL.
unsafe extern "system" fn WdfObjectGetTypedContextWorker(
    _: PWDF_DRIVER_GLOBALS,
    Handle: WDFOBJECT,
    TypeInfo: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
) -> *mut c_void {
    let export = WdfObjectGetTypedContextWorker as *const () as usize;
    if null_parameter(Handle, export) {
        return null_mut();
    }
    let Some(handle) = object_of(Handle, FX_TYPE_OBJECT, export) else {
        return null_mut();
    };
    let reg = lock();
    reg.objects
        .get(&handle)
        .and_then(|object| find_context(object, TypeInfo))
        .map_or(null_mut(), |c| c.block.memory.0.cast())
}

/// `WdfObjectAllocateContext` (`FxObjectAllocateContext`): the attributes
/// checked as KMDF 1.11+ does (required, no parent, no execution level or
/// scope), a context type required (`STATUS_OBJECT_NAME_INVALID`), then
/// `STATUS_DELETE_PENDING` unless the object is in its created state, the
/// existing space and `STATUS_OBJECT_NAME_EXISTS` if it has that type, else
/// zeroed space with the attributes' own cleanup and destroy callbacks.
unsafe extern "system" fn WdfObjectAllocateContext(
    _: PWDF_DRIVER_GLOBALS,
    Handle: WDFOBJECT,
    ContextAttributes: *mut w::WDF_OBJECT_ATTRIBUTES,
    Context: *mut *mut c_void,
) -> NTSTATUS {
    let export = WdfObjectAllocateContext as *const () as usize;
    if null_parameter(Handle, export) {
        return w::STATUS_INVALID_PARAMETER;
    }
    let Some(handle) = object_of(Handle, FX_TYPE_OBJECT, export) else {
        return w::STATUS_INVALID_PARAMETER;
    };
    // SAFETY: `ContextAttributes` is NULL or points to the driver's
    // initialized `WDF_OBJECT_ATTRIBUTES` (KMDF's contract); the borrow is
    // copied at once.
    let Some(attributes) = (unsafe { ContextAttributes.as_ref() }).copied() else {
        return w::STATUS_WDF_PARENT_NOT_SPECIFIED;
    };
    if let Err(status) = object_attributes(&attributes, true) {
        return status;
    }
    if attributes.ContextTypeInfo.is_null() {
        return status::STATUS_OBJECT_NAME_INVALID;
    }
    let write = |value: *mut c_void| {
        if !Context.is_null() {
            // SAFETY: the caller's out pointer, checked non-NULL.
            unsafe { Context.write(value) };
        }
    };
    let mut reg = lock();
    let Some(object) = reg.objects.get_mut(&handle) else {
        return w::STATUS_INVALID_PARAMETER;
    };
    if object.lifecycle != Lifecycle::Created {
        return w::STATUS_DELETE_PENDING;
    }
    if let Some(existing) = find_context(object, attributes.ContextTypeInfo) {
        write(existing.block.memory.0.cast());
        return w::STATUS_OBJECT_NAME_EXISTS;
    }
    let Some(context) = new_context(&attributes) else {
        return status::STATUS_OBJECT_NAME_INVALID;
    };
    write(context.block.memory.0.cast());
    object.contexts.push(context);
    STATUS_SUCCESS
}

/// Casts a table function to `WDFFUNC` (the table stores untyped pointers).
macro_rules! entry {
    ($f:expr, $t:ty) => {{
        let f: $t = $f;
        // SAFETY: only the pointer's type changes; the driver calls it with
        // the signature of its index, which is `$t`.
        Some(unsafe { core::mem::transmute::<$t, unsafe extern "system" fn()>(f) })
    }};
}

const fn table() -> [WDFFUNC; w::WdfFunctionTableNumEntries] {
    let mut t: [WDFFUNC; w::WdfFunctionTableNumEntries] = [None; w::WdfFunctionTableNumEntries];
    t[w::WdfWorkItemCreateTableIndex] = entry!(WdfWorkItemCreate, w::PFN_WDFWORKITEMCREATE);
    t[w::WdfWorkItemEnqueueTableIndex] = entry!(WdfWorkItemEnqueue, w::PFN_WDFWORKITEMENQUEUE);
    t[w::WdfWorkItemFlushTableIndex] = entry!(WdfWorkItemFlush, w::PFN_WDFWORKITEMENQUEUE);
    t[w::WdfWorkItemGetParentObjectTableIndex] = entry!(
        WdfWorkItemGetParentObject,
        w::PFN_WDFWORKITEMGETPARENTOBJECT
    );
    t[w::WdfObjectDeleteTableIndex] = entry!(WdfObjectDelete, w::PFN_WDFOBJECTDELETE);
    t[w::WdfObjectReferenceActualTableIndex] =
        entry!(WdfObjectReferenceActual, w::PFN_WDFOBJECTREFERENCEACTUAL);
    t[w::WdfObjectDereferenceActualTableIndex] =
        entry!(WdfObjectDereferenceActual, w::PFN_WDFOBJECTREFERENCEACTUAL);
    t[w::WdfObjectAllocateContextTableIndex] =
        entry!(WdfObjectAllocateContext, w::PFN_WDFOBJECTALLOCATECONTEXT);
    t[w::WdfObjectGetTypedContextWorkerTableIndex] = entry!(
        WdfObjectGetTypedContextWorker,
        w::PFN_WDFOBJECTGETTYPEDCONTEXTWORKER
    );
    t
}

static TABLE: [WDFFUNC; w::WdfFunctionTableNumEntries] = table();

/// The framework's function table as KMDF 1.15 binds it.
#[unsafe(no_mangle)]
pub static mut WdfFunctions_01015: *const WDFFUNC = TABLE.as_ptr();

/// The framework's function table as KMDF 1.31 binds it.
#[unsafe(no_mangle)]
pub static mut WdfFunctions_01031: *const WDFFUNC = TABLE.as_ptr();

/// The framework's function table as KMDF 1.33 binds it.
#[unsafe(no_mangle)]
pub static mut WdfFunctions_01033: *const WDFFUNC = TABLE.as_ptr();
