//! The calls: `WdfDriverGlobals` and each function through the table, with
//! the globals as first argument (`call_unsafe_wdf_function_binding!`).

use core::ffi::{c_char, c_void};

use super::*;

unsafe extern "C" {
    /// The driver's framework globals, filled in when it binds the driver.
    pub static mut WdfDriverGlobals: PWDF_DRIVER_GLOBALS;
}

/// `WdfWorkItemCreate`.
///
/// # Safety
///
/// The framework has bound the driver; the pointers are valid; IRQL <= DISPATCH_LEVEL.
pub unsafe fn WdfWorkItemCreate(
    Config: *mut WDF_WORKITEM_CONFIG,
    Attributes: *mut WDF_OBJECT_ATTRIBUTES,
    WorkItem: *mut WDFWORKITEM,
) -> NTSTATUS {
    // SAFETY: the framework has bound the driver (this fn's contract), so its
    // table is filled in; entry 379 is `PFN_WDFWORKITEMCREATE`.
    let create = unsafe { table_function::<PFN_WDFWORKITEMCREATE, WdfWorkItemCreateTableIndex>() };
    // SAFETY: the framework wrote `WdfDriverGlobals` when it bound the driver,
    // before any of the driver's code ran, and nothing writes it after; this
    // reads the pointer by value.
    let globals = unsafe { WdfDriverGlobals };
    // SAFETY: `create` is the framework's `WdfWorkItemCreate`; `Config`,
    // `Attributes` and `WorkItem` are valid pointers and IRQL <=
    // DISPATCH_LEVEL (this fn's contract).
    unsafe { create(globals, Config, Attributes, WorkItem) }
}

/// `WdfWorkItemEnqueue`.
///
/// # Safety
///
/// The framework has bound the driver; `WorkItem` is a live work item; IRQL <= DISPATCH_LEVEL.
pub unsafe fn WdfWorkItemEnqueue(WorkItem: WDFWORKITEM) {
    // SAFETY: the framework has bound the driver (this fn's contract), so its
    // table is filled in; entry 380 is `PFN_WDFWORKITEMENQUEUE`.
    let enqueue =
        unsafe { table_function::<PFN_WDFWORKITEMENQUEUE, WdfWorkItemEnqueueTableIndex>() };
    // SAFETY: the framework wrote `WdfDriverGlobals` when it bound the driver,
    // before any of the driver's code ran, and nothing writes it after; this
    // reads the pointer by value.
    let globals = unsafe { WdfDriverGlobals };
    // SAFETY: `enqueue` is the framework's `WdfWorkItemEnqueue`; `WorkItem` is
    // a live work item and IRQL <= DISPATCH_LEVEL (this fn's contract).
    unsafe { enqueue(globals, WorkItem) }
}

/// `WdfWorkItemGetParentObject`.
///
/// # Safety
///
/// The framework has bound the driver; `WorkItem` is a live work item.
pub unsafe fn WdfWorkItemGetParentObject(WorkItem: WDFWORKITEM) -> WDFOBJECT {
    // SAFETY: the framework has bound the driver (this fn's contract), so its
    // table is filled in; entry 381 is `PFN_WDFWORKITEMGETPARENTOBJECT`.
    let get_parent = unsafe {
        table_function::<PFN_WDFWORKITEMGETPARENTOBJECT, WdfWorkItemGetParentObjectTableIndex>()
    };
    // SAFETY: the framework wrote `WdfDriverGlobals` when it bound the driver,
    // before any of the driver's code ran, and nothing writes it after; this
    // reads the pointer by value.
    let globals = unsafe { WdfDriverGlobals };
    // SAFETY: `get_parent` is the framework's `WdfWorkItemGetParentObject`;
    // `WorkItem` is a live work item (this fn's contract).
    unsafe { get_parent(globals, WorkItem) }
}

/// `WdfWorkItemFlush`.
///
/// # Safety
///
/// The framework has bound the driver; `WorkItem` is a live work item;
/// PASSIVE_LEVEL, not from the item's own callback.
pub unsafe fn WdfWorkItemFlush(WorkItem: WDFWORKITEM) {
    // SAFETY: the framework has bound the driver (this fn's contract), so its
    // table is filled in; entry 382 (`PFN_WDFWORKITEMFLUSH`) has the enqueue
    // shape.
    let flush = unsafe { table_function::<PFN_WDFWORKITEMENQUEUE, WdfWorkItemFlushTableIndex>() };
    // SAFETY: the framework wrote `WdfDriverGlobals` when it bound the driver,
    // before any of the driver's code ran, and nothing writes it after; this
    // reads the pointer by value.
    let globals = unsafe { WdfDriverGlobals };
    // SAFETY: `flush` is the framework's `WdfWorkItemFlush`; `WorkItem` is a
    // live work item, at PASSIVE_LEVEL and not from its own callback (this
    // fn's contract).
    unsafe { flush(globals, WorkItem) }
}

/// `WdfObjectDelete`.
///
/// # Safety
///
/// The framework has bound the driver; `Object` is a live object the driver may delete.
pub unsafe fn WdfObjectDelete(Object: WDFOBJECT) {
    // SAFETY: the framework has bound the driver (this fn's contract), so its
    // table is filled in; entry 208 is `PFN_WDFOBJECTDELETE`.
    let delete = unsafe { table_function::<PFN_WDFOBJECTDELETE, WdfObjectDeleteTableIndex>() };
    // SAFETY: the framework wrote `WdfDriverGlobals` when it bound the driver,
    // before any of the driver's code ran, and nothing writes it after; this
    // reads the pointer by value.
    let globals = unsafe { WdfDriverGlobals };
    // SAFETY: `delete` is the framework's `WdfObjectDelete`; `Object` is a live
    // object the driver may delete (this fn's contract).
    unsafe { delete(globals, Object) }
}

/// `WdfObjectReferenceActual` (`WdfObjectReference` / `WdfObjectReferenceWithTag`):
/// one more reference; the object's memory (and its context, until
/// `EvtDestroyCallback`) lives until the last one goes.
///
/// # Safety
///
/// The framework has bound the driver; `Handle` is a live object (or one the
/// caller holds a reference on). IRQL <= DISPATCH_LEVEL.
pub unsafe fn WdfObjectReferenceActual(
    Handle: WDFOBJECT,
    Tag: *mut c_void,
    Line: i32,
    File: *const c_char,
) {
    // SAFETY: the framework has bound the driver (this fn's contract), so its
    // table is filled in; entry 205 is `PFN_WDFOBJECTREFERENCEACTUAL`.
    let reference = unsafe {
        table_function::<PFN_WDFOBJECTREFERENCEACTUAL, WdfObjectReferenceActualTableIndex>()
    };
    // SAFETY: the framework wrote `WdfDriverGlobals` when it bound the driver,
    // before any of the driver's code ran, and nothing writes it after; this
    // reads the pointer by value.
    let globals = unsafe { WdfDriverGlobals };
    // SAFETY: `reference` is the framework's `WdfObjectReferenceActual`;
    // `Handle` is live or referenced by the caller, at IRQL <=
    // DISPATCH_LEVEL (this fn's contract).
    unsafe { reference(globals, Handle, Tag, Line, File) }
}

/// `WdfObjectDereferenceActual`: drops a reference taken with
/// [`WdfObjectReferenceActual`] (with the same tag).
///
/// # Safety
///
/// The framework has bound the driver; the caller owns the reference it
/// drops. IRQL <= DISPATCH_LEVEL.
pub unsafe fn WdfObjectDereferenceActual(
    Handle: WDFOBJECT,
    Tag: *mut c_void,
    Line: i32,
    File: *const c_char,
) {
    // SAFETY: the framework has bound the driver (this fn's contract), so its
    // table is filled in; entry 206 (`PFN_WDFOBJECTDEREFERENCEACTUAL`) has
    // the reference shape.
    let dereference = unsafe {
        table_function::<PFN_WDFOBJECTREFERENCEACTUAL, WdfObjectDereferenceActualTableIndex>()
    };
    // SAFETY: the framework wrote `WdfDriverGlobals` when it bound the driver,
    // before any of the driver's code ran, and nothing writes it after; this
    // reads the pointer by value.
    let globals = unsafe { WdfDriverGlobals };
    // SAFETY: `dereference` is the framework's `WdfObjectDereferenceActual`;
    // the caller owns the reference on `Handle` it drops, at IRQL <=
    // DISPATCH_LEVEL (this fn's contract).
    unsafe { dereference(globals, Handle, Tag, Line, File) }
}

/// `WdfObjectAllocateContext`: context space of another type for an existing
/// object (zeroed; `STATUS_OBJECT_NAME_EXISTS` with the existing space if it
/// has one of that type).
///
/// # Safety
///
/// `Handle` is a live framework object; `ContextAttributes` points to
/// initialized attributes with a context type and no parent; `Context` is
/// valid for a write.
pub unsafe fn WdfObjectAllocateContext(
    Handle: WDFOBJECT,
    ContextAttributes: *mut WDF_OBJECT_ATTRIBUTES,
    Context: *mut *mut c_void,
) -> NTSTATUS {
    // SAFETY: `Handle` is a live framework object (this fn's contract), so
    // the framework has bound the driver and filled in its table; entry 203 is
    // `PFN_WDFOBJECTALLOCATECONTEXT`.
    let allocate_context = unsafe {
        table_function::<PFN_WDFOBJECTALLOCATECONTEXT, WdfObjectAllocateContextTableIndex>()
    };
    // SAFETY: the framework wrote `WdfDriverGlobals` when it bound the driver,
    // before any of the driver's code ran, and nothing writes it after; this
    // reads the pointer by value.
    let globals = unsafe { WdfDriverGlobals };
    // SAFETY: `allocate_context` is the framework's `WdfObjectAllocateContext`;
    // `Handle` is live, `ContextAttributes` initialized with a context type
    // and no parent, `Context` valid for a write (this fn's contract).
    unsafe { allocate_context(globals, Handle, ContextAttributes, Context) }
}

/// `WdfObjectGetTypedContextWorker` (what `WDF_DECLARE_CONTEXT_TYPE`'s accessor calls).
///
/// # Safety
///
/// The framework has bound the driver; `Handle` is live; `TypeInfo` is a
/// context type's static info.
pub unsafe fn WdfObjectGetTypedContextWorker(
    Handle: WDFOBJECT,
    TypeInfo: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
) -> *mut c_void {
    // SAFETY: the framework has bound the driver (this fn's contract), so its
    // table is filled in; entry 202 is `PFN_WDFOBJECTGETTYPEDCONTEXTWORKER`.
    let get_context = unsafe {
        table_function::<PFN_WDFOBJECTGETTYPEDCONTEXTWORKER, WdfObjectGetTypedContextWorkerTableIndex>(
        )
    };
    // SAFETY: the framework wrote `WdfDriverGlobals` when it bound the driver,
    // before any of the driver's code ran, and nothing writes it after; this
    // reads the pointer by value.
    let globals = unsafe { WdfDriverGlobals };
    // SAFETY: `get_context` is the framework's
    // `WdfObjectGetTypedContextWorker`; `Handle` is live and `TypeInfo` a
    // context type's static info (this fn's contract).
    unsafe { get_context(globals, Handle, TypeInfo) }
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    use core::mem::offset_of;
    assert!(size_of::<WDF_WORKITEM_CONFIG>() == 24);
    assert!(offset_of!(WDF_WORKITEM_CONFIG, EvtWorkItemFunc) == 8);
    assert!(offset_of!(WDF_WORKITEM_CONFIG, AutomaticSerialization) == 16);
    assert!(size_of::<WDF_OBJECT_ATTRIBUTES>() == 56);
    assert!(offset_of!(WDF_OBJECT_ATTRIBUTES, ExecutionLevel) == 24);
    assert!(offset_of!(WDF_OBJECT_ATTRIBUTES, SynchronizationScope) == 28);
    assert!(offset_of!(WDF_OBJECT_ATTRIBUTES, ParentObject) == 32);
    assert!(offset_of!(WDF_OBJECT_ATTRIBUTES, ContextTypeInfo) == 48);
    assert!(size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>() == 40);
    assert!(offset_of!(WDF_OBJECT_CONTEXT_TYPE_INFO, UniqueType) == 24);
};

#[cfg(target_pointer_width = "32")]
const _: () = {
    use core::mem::offset_of;
    assert!(size_of::<WDF_WORKITEM_CONFIG>() == 12);
    assert!(offset_of!(WDF_WORKITEM_CONFIG, AutomaticSerialization) == 8);
    assert!(size_of::<WDF_OBJECT_ATTRIBUTES>() == 32);
    assert!(offset_of!(WDF_OBJECT_ATTRIBUTES, ParentObject) == 20);
    assert!(size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>() == 20);
};
