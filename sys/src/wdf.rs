//! KMDF's work-item pieces, named as in the WDF headers (`wdfworkitem.h`,
//! `wdfobject.h`, `wdftypes.h`, `wdfstatus.h`, `wdffuncenum.h`).
//!
//! A KMDF driver does not import these functions: the framework fills in the
//! function table [`WdfFunctions`] (`WdfFunctions_01033` for KMDF 1.33) and
//! `WdfDriverGlobals` (globals the driver's KMDF stub library defines) when
//! it binds the driver, and every call goes through the table with the
//! globals as first argument, which is what wdk-sys's
//! `call_unsafe_wdf_function_binding!` does. The host executive defines both
//! symbols, so the same calls run on Linux.
//!
//! # KMDF version
//!
//! The table's symbol and size follow the KMDF version the driver targets:
//! 1.33 by default, 1.31 or 1.15 with this crate's feature `kmdf-1-31` or
//! `kmdf-1-15` (ntwork forwards them). Exactly one may be enabled in a build.
//! A function ntwork calls that the chosen version lacks is a compile error
//! (see [`table_function`]).
//!
//! Table indices are from `wdffuncenum.h`, identical in 1.15, 1.31 and 1.33
//! (the enum only grows; the header's `WDF_IS_FUNCTION_AVAILABLE` compares
//! an index with the table's count, so an index never moves):
//! `WdfObjectGetTypedContextWorker` 202, `WdfObjectDelete` 208,
//! `WdfWorkItemCreate` 379 .. `WdfWorkItemFlush` 382.

use core::ffi::{c_char, c_void};

use super::{BOOLEAN, NTSTATUS, SIZE_T, ULONG};

mod table;
pub use table::{
    KMDF_VERSION, WDFFUNC, WdfFunctionTableNumEntries, WdfFunctions,
    WdfObjectAllocateContextTableIndex, WdfObjectDeleteTableIndex,
    WdfObjectDereferenceActualTableIndex, WdfObjectGetTypedContextWorkerTableIndex,
    WdfObjectReferenceActualTableIndex, WdfWorkItemCreateTableIndex, WdfWorkItemEnqueueTableIndex,
    WdfWorkItemFlushTableIndex, WdfWorkItemGetParentObjectTableIndex, table_function,
};

/// Declares an opaque WDF handle type, `struct NAME__ *` as in `wdftypes.h`.
macro_rules! handles {
    ($($handle:ident $inner:ident;)*) => {$(
        #[doc = concat!("The opaque object behind `", stringify!($handle), "`.")]
        #[repr(C)]
        pub struct $inner {
            _private: [u8; 0],
        }
        #[doc = concat!("`", stringify!($handle), "`: a framework object handle.")]
        pub type $handle = *mut $inner;
    )*};
}

handles! {
    WDFOBJECT WDFOBJECT__;
    WDFDRIVER WDFDRIVER__;
    WDFDEVICE WDFDEVICE__;
    WDFQUEUE WDFQUEUE__;
    WDFWORKITEM WDFWORKITEM__;
}

wdk_abi! { NTAPI
    /// `EVT_WDF_WORKITEM`: the work item's callback, at PASSIVE_LEVEL
    /// (wdfworkitem.h: `VOID NTAPI EVT_WDF_WORKITEM(WDFWORKITEM)`).
    pub type EVT_WDF_WORKITEM = fn(WorkItem: WDFWORKITEM);
}
/// `PFN_WDF_WORKITEM`.
pub type PFN_WDF_WORKITEM = Option<EVT_WDF_WORKITEM>;
wdk_abi! { NTAPI
    /// `EVT_WDF_OBJECT_CONTEXT_CLEANUP` / `_DESTROY` (wdfobject.h: both `NTAPI`).
    pub type EVT_WDF_OBJECT_CONTEXT_CLEANUP = fn(Object: WDFOBJECT);
}
/// `PFN_WDF_OBJECT_CONTEXT_CLEANUP`.
pub type PFN_WDF_OBJECT_CONTEXT_CLEANUP = Option<EVT_WDF_OBJECT_CONTEXT_CLEANUP>;
/// `PFN_WDF_OBJECT_CONTEXT_DESTROY`.
pub type PFN_WDF_OBJECT_CONTEXT_DESTROY = Option<EVT_WDF_OBJECT_CONTEXT_CLEANUP>;

/// `WDF_WORKITEM_CONFIG`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct WDF_WORKITEM_CONFIG {
    /// `size_of::<WDF_WORKITEM_CONFIG>()`.
    pub Size: ULONG,
    /// The callback.
    pub EvtWorkItemFunc: PFN_WDF_WORKITEM,
    /// TRUE: the callback runs under the parent's synchronization lock.
    pub AutomaticSerialization: BOOLEAN,
}

impl WDF_WORKITEM_CONFIG {
    /// `WDF_WORKITEM_CONFIG_INIT`: AutomaticSerialization TRUE, as the header sets it.
    pub const fn init(callback: PFN_WDF_WORKITEM) -> Self {
        Self {
            Size: size_of::<Self>() as ULONG,
            EvtWorkItemFunc: callback,
            AutomaticSerialization: 1,
        }
    }
}

/// `WDF_EXECUTION_LEVEL`.
pub type WDF_EXECUTION_LEVEL = i32;
/// `WdfExecutionLevelInvalid`.
pub const WdfExecutionLevelInvalid: WDF_EXECUTION_LEVEL = 0;
/// `WdfExecutionLevelInheritFromParent`.
pub const WdfExecutionLevelInheritFromParent: WDF_EXECUTION_LEVEL = 1;
/// `WdfExecutionLevelPassive`: callbacks at PASSIVE_LEVEL.
pub const WdfExecutionLevelPassive: WDF_EXECUTION_LEVEL = 2;
/// `WdfExecutionLevelDispatch`: callbacks at up to DISPATCH_LEVEL.
pub const WdfExecutionLevelDispatch: WDF_EXECUTION_LEVEL = 3;

/// `WDF_SYNCHRONIZATION_SCOPE`.
pub type WDF_SYNCHRONIZATION_SCOPE = i32;
/// `WdfSynchronizationScopeInvalid`.
pub const WdfSynchronizationScopeInvalid: WDF_SYNCHRONIZATION_SCOPE = 0;
/// `WdfSynchronizationScopeInheritFromParent`.
pub const WdfSynchronizationScopeInheritFromParent: WDF_SYNCHRONIZATION_SCOPE = 1;
/// `WdfSynchronizationScopeDevice`: the device's callbacks share one lock.
pub const WdfSynchronizationScopeDevice: WDF_SYNCHRONIZATION_SCOPE = 2;
/// `WdfSynchronizationScopeQueue`: each queue's callbacks share one lock.
pub const WdfSynchronizationScopeQueue: WDF_SYNCHRONIZATION_SCOPE = 3;
/// `WdfSynchronizationScopeNone`: no framework lock.
pub const WdfSynchronizationScopeNone: WDF_SYNCHRONIZATION_SCOPE = 4;

wdk_abi! { CDECL
    /// `PFN_GET_UNIQUE_CONTEXT_TYPE` (wdfobject.h: `(__cdecl
    /// *PFN_GET_UNIQUE_CONTEXT_TYPE)(VOID)`, the one `__cdecl` here).
    pub type PFN_GET_UNIQUE_CONTEXT_TYPE = Option<fn() -> *const WDF_OBJECT_CONTEXT_TYPE_INFO>;
}

/// `WDF_OBJECT_CONTEXT_TYPE_INFO`: names a context type; `UniqueType` points
/// to the one static that identifies it (itself, for a driver's own type).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct WDF_OBJECT_CONTEXT_TYPE_INFO {
    /// `size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>()`.
    pub Size: ULONG,
    /// The type's name, NUL-terminated.
    pub ContextName: *const c_char,
    /// Bytes of context space the type needs.
    pub ContextSize: SIZE_T,
    /// The one info that identifies the type.
    pub UniqueType: *const WDF_OBJECT_CONTEXT_TYPE_INFO,
    /// For types declared in another binary; NULL here.
    pub EvtDriverGetUniqueContextType: PFN_GET_UNIQUE_CONTEXT_TYPE,
}

/// `PCWDF_OBJECT_CONTEXT_TYPE_INFO`.
pub type PCWDF_OBJECT_CONTEXT_TYPE_INFO = *const WDF_OBJECT_CONTEXT_TYPE_INFO;

/// `WDF_OBJECT_ATTRIBUTES`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct WDF_OBJECT_ATTRIBUTES {
    /// `size_of::<WDF_OBJECT_ATTRIBUTES>()`.
    pub Size: ULONG,
    /// Called when the object is deleted (children first), before it is freed.
    pub EvtCleanupCallback: PFN_WDF_OBJECT_CONTEXT_CLEANUP,
    /// Called when the last reference to the object goes.
    pub EvtDestroyCallback: PFN_WDF_OBJECT_CONTEXT_DESTROY,
    /// The highest IRQL of the object's callbacks.
    pub ExecutionLevel: WDF_EXECUTION_LEVEL,
    /// Which callbacks share a lock.
    pub SynchronizationScope: WDF_SYNCHRONIZATION_SCOPE,
    /// The parent: deleted with it. Required for a work item.
    pub ParentObject: WDFOBJECT,
    /// Context bytes to allocate instead of the type's size (0: the type's).
    pub ContextSizeOverride: SIZE_T,
    /// The context type to allocate with the object.
    pub ContextTypeInfo: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
}

impl WDF_OBJECT_ATTRIBUTES {
    /// `WDF_OBJECT_ATTRIBUTES_INIT`: inherit execution level and
    /// synchronization scope from the parent, no callbacks, no context.
    pub const fn init() -> Self {
        Self {
            Size: size_of::<Self>() as ULONG,
            EvtCleanupCallback: None,
            EvtDestroyCallback: None,
            ExecutionLevel: WdfExecutionLevelInheritFromParent,
            SynchronizationScope: WdfSynchronizationScopeInheritFromParent,
            ParentObject: core::ptr::null_mut(),
            ContextSizeOverride: 0,
            ContextTypeInfo: core::ptr::null(),
        }
    }
}

/// `WDF_DRIVER_GLOBALS` (the fields drivers read).
#[repr(C)]
#[derive(Debug)]
pub struct WDF_DRIVER_GLOBALS {
    /// The driver's WDFDRIVER.
    pub Driver: WDFDRIVER,
    /// Flags from `WDF_DRIVER_CONFIG`.
    pub DriverFlags: ULONG,
    /// The driver's pool tag.
    pub DriverTag: ULONG,
    /// The driver's name, NUL-terminated.
    pub DriverName: [c_char; 32],
    /// Whether the framework displaced DriverUnload.
    pub DisplaceDriverUnload: BOOLEAN,
}

/// `PWDF_DRIVER_GLOBALS`.
pub type PWDF_DRIVER_GLOBALS = *mut WDF_DRIVER_GLOBALS;

/// `STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL`.
pub const STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL: NTSTATUS = 0xC020_020C_u32 as NTSTATUS;
/// `STATUS_WDF_PARENT_NOT_SPECIFIED`.
pub const STATUS_WDF_PARENT_NOT_SPECIFIED: NTSTATUS = 0xC020_0212_u32 as NTSTATUS;
/// `STATUS_WDF_OBJECT_ATTRIBUTES_INVALID`.
pub const STATUS_WDF_OBJECT_ATTRIBUTES_INVALID: NTSTATUS = 0xC020_0209_u32 as NTSTATUS;
/// `STATUS_INFO_LENGTH_MISMATCH`: a config or attributes `Size` the framework does not know.
pub const STATUS_INFO_LENGTH_MISMATCH: NTSTATUS = 0xC000_0004_u32 as NTSTATUS;
/// `STATUS_OBJECT_NAME_EXISTS` (a success code): `WdfObjectAllocateContext`
/// found context space of that type already and returned it.
pub const STATUS_OBJECT_NAME_EXISTS: NTSTATUS = 0x4000_0000;
/// `STATUS_DELETE_PENDING`: the object is being deleted.
pub const STATUS_DELETE_PENDING: NTSTATUS = 0xC000_0056_u32 as NTSTATUS;
/// `STATUS_INVALID_PARAMETER`.
pub const STATUS_INVALID_PARAMETER: NTSTATUS = 0xC000_000D_u32 as NTSTATUS;
/// `STATUS_INVALID_DEVICE_STATE`.
pub const STATUS_INVALID_DEVICE_STATE: NTSTATUS = 0xC000_0184_u32 as NTSTATUS;
pub use super::STATUS_INSUFFICIENT_RESOURCES;

// The table's function types. wdfworkitem.h and wdfobject.h declare each
// `(NTAPI *PFN_...)`, except `(FASTCALL *PFN_WDFOBJECTGETTYPEDCONTEXTWORKER)`
// (wdfobject.h, KMDF 1.15 to 1.33).

wdk_abi! { NTAPI
    /// `PFN_WDFWORKITEMCREATE`.
    pub type PFN_WDFWORKITEMCREATE = fn(
        DriverGlobals: PWDF_DRIVER_GLOBALS,
        Config: *mut WDF_WORKITEM_CONFIG,
        Attributes: *mut WDF_OBJECT_ATTRIBUTES,
        WorkItem: *mut WDFWORKITEM,
    ) -> NTSTATUS;
}
wdk_abi! { NTAPI
    /// `PFN_WDFWORKITEMENQUEUE` (and `PFN_WDFWORKITEMFLUSH`).
    pub type PFN_WDFWORKITEMENQUEUE = fn(DriverGlobals: PWDF_DRIVER_GLOBALS, WorkItem: WDFWORKITEM);
}
wdk_abi! { NTAPI
    /// `PFN_WDFWORKITEMGETPARENTOBJECT`.
    pub type PFN_WDFWORKITEMGETPARENTOBJECT =
        fn(DriverGlobals: PWDF_DRIVER_GLOBALS, WorkItem: WDFWORKITEM) -> WDFOBJECT;
}
wdk_abi! { NTAPI
    /// `PFN_WDFOBJECTDELETE`.
    pub type PFN_WDFOBJECTDELETE = fn(DriverGlobals: PWDF_DRIVER_GLOBALS, Object: WDFOBJECT);
}
wdk_abi! { NTAPI
    /// `PFN_WDFOBJECTREFERENCEACTUAL` (and `PFN_WDFOBJECTDEREFERENCEACTUAL`).
    pub type PFN_WDFOBJECTREFERENCEACTUAL = fn(
        DriverGlobals: PWDF_DRIVER_GLOBALS,
        Handle: WDFOBJECT,
        Tag: *mut c_void,
        Line: i32,
        File: *const c_char,
    );
}
wdk_abi! { NTAPI
    /// `PFN_WDFOBJECTALLOCATECONTEXT`.
    pub type PFN_WDFOBJECTALLOCATECONTEXT = fn(
        DriverGlobals: PWDF_DRIVER_GLOBALS,
        Handle: WDFOBJECT,
        ContextAttributes: *mut WDF_OBJECT_ATTRIBUTES,
        Context: *mut *mut c_void,
    ) -> NTSTATUS;
}
wdk_abi! { FASTCALL
    /// `PFN_WDFOBJECTGETTYPEDCONTEXTWORKER`: `FASTCALL` in wdfobject.h, so
    /// on x86 the globals and the handle go in ECX and EDX.
    pub type PFN_WDFOBJECTGETTYPEDCONTEXTWORKER = fn(
        DriverGlobals: PWDF_DRIVER_GLOBALS,
        Handle: WDFOBJECT,
        TypeInfo: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
    ) -> *mut c_void;
}

/// A handle that keeps a `WDFDEVICE`'s memory: a test harness's framework
/// device handle, so code can borrow the device safely from it.
///
/// # Safety
///
/// [`wdf_device`](Self::wdf_device) returns the same non-NULL handle every
/// time, and the memory it points to stays valid while `&self` is borrowed
/// (the framework may have deleted the object; its functions then refuse
/// the handle).
pub unsafe trait KeepsWdfDevice {
    /// The framework device.
    fn wdf_device(&self) -> WDFDEVICE;
}

// SAFETY: a borrow of a handle keeps what the handle keeps, for as long.
unsafe impl<T: KeepsWdfDevice + ?Sized> KeepsWdfDevice for &T {
    fn wdf_device(&self) -> WDFDEVICE {
        (**self).wdf_device()
    }
}

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
