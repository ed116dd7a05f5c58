//! The function table a KMDF driver calls through, `WdfFunctions_01033`,
//! and `WdfDriverGlobals`; the object functions that are not a work item's.

#![allow(non_snake_case, non_upper_case_globals)]

use core::ffi::c_void;
use core::ptr::null_mut;

use ntwork_sys::wdf::{
    self as w, PCWDF_OBJECT_CONTEXT_TYPE_INFO, PWDF_DRIVER_GLOBALS, WDF_DRIVER_GLOBALS, WDFFUNC,
    WDFOBJECT,
};
use ntwork_sys::{NTSTATUS, STATUS_SUCCESS};

use super::object::{WdfObjectDelete, with_objects};
use super::workitem::{
    WdfWorkItemCreate, WdfWorkItemEnqueue, WdfWorkItemFlush, WdfWorkItemGetParentObject,
};

unsafe extern "system" fn WdfObjectGetTypedContextWorker(
    _: PWDF_DRIVER_GLOBALS,
    Handle: WDFOBJECT,
    TypeInfo: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
) -> *mut c_void {
    let unique = |info: PCWDF_OBJECT_CONTEXT_TYPE_INFO| {
        // SAFETY: context type infos are the driver's statics.
        unsafe { info.as_ref() }.map_or(0, |i| i.UniqueType as usize)
    };
    let wanted = unique(TypeInfo);
    with_objects(|objects| {
        let Some(object) = objects.get(&(Handle as usize)) else {
            return null_mut();
        };
        object
            .context
            .iter()
            .map(|&(info, memory, _)| (info, memory))
            .chain(
                object
                    .extra
                    .iter()
                    .map(|&(info, memory, _, _)| (info, memory)),
            )
            .find(|&(info, _)| unique(info) == wanted)
            .map_or(null_mut(), |(_, memory)| memory as *mut c_void)
    })
}

/// `WdfObjectAllocateContext`: zeroed context space of another type for an
/// existing object; the existing space and `STATUS_OBJECT_NAME_EXISTS` if
/// the object has one of that type, `STATUS_DELETE_PENDING` while it is
/// being deleted (the DDI reference page's statuses).
unsafe extern "system" fn WdfObjectAllocateContext(
    _: PWDF_DRIVER_GLOBALS,
    Handle: WDFOBJECT,
    ContextAttributes: *mut w::WDF_OBJECT_ATTRIBUTES,
    Context: *mut *mut c_void,
) -> NTSTATUS {
    // SAFETY: the caller's attributes.
    let Some(attributes) = (unsafe { ContextAttributes.as_ref() }) else {
        return w::STATUS_INVALID_PARAMETER;
    };
    if attributes.ContextTypeInfo.is_null() || !attributes.ParentObject.is_null() {
        return w::STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the lookup reads only the registry; the type info is the caller's.
    let existing =
        unsafe { WdfObjectGetTypedContextWorker(null_mut(), Handle, attributes.ContextTypeInfo) };
    if !existing.is_null() {
        // SAFETY: the caller's out pointer.
        unsafe { Context.write(existing) };
        return w::STATUS_OBJECT_NAME_EXISTS;
    }
    // SAFETY: the caller's type info.
    let size = unsafe { (*attributes.ContextTypeInfo).ContextSize }
        .max(attributes.ContextSizeOverride)
        .max(1);
    let Ok(layout) = core::alloc::Layout::from_size_align(size, 16) else {
        return w::STATUS_INVALID_PARAMETER;
    };
    let info = attributes.ContextTypeInfo;
    let cleanup = attributes.EvtCleanupCallback;
    with_objects(|objects| {
        let Some(object) = objects.get_mut(&(Handle as usize)) else {
            return w::STATUS_INVALID_PARAMETER;
        };
        if object.disposing {
            return w::STATUS_DELETE_PENDING;
        }
        // SAFETY: a non-zero layout.
        let memory = unsafe { std::alloc::alloc_zeroed(layout) }.addr();
        object.extra.push((info, memory, layout.size(), cleanup));
        // SAFETY: the caller's out pointer.
        unsafe { Context.write(memory as *mut c_void) };
        STATUS_SUCCESS
    })
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
    t[w::WdfObjectAllocateContextTableIndex] =
        entry!(WdfObjectAllocateContext, w::PFN_WDFOBJECTALLOCATECONTEXT);
    t[w::WdfObjectGetTypedContextWorkerTableIndex] = entry!(
        WdfObjectGetTypedContextWorker,
        w::PFN_WDFOBJECTGETTYPEDCONTEXTWORKER
    );
    t
}

static TABLE: [WDFFUNC; w::WdfFunctionTableNumEntries] = table();

static mut GLOBALS: WDF_DRIVER_GLOBALS = WDF_DRIVER_GLOBALS {
    Driver: null_mut(),
    DriverFlags: 0,
    DriverTag: 0,
    DriverName: [0; 32],
    DisplaceDriverUnload: 0,
};

/// The framework's function table (what the KMDF loader fills in at bind).
#[unsafe(no_mangle)]
pub static mut WdfFunctions_01033: *const WDFFUNC = TABLE.as_ptr();

/// The driver's framework globals.
#[unsafe(no_mangle)]
pub static mut WdfDriverGlobals: PWDF_DRIVER_GLOBALS = &raw mut GLOBALS;
