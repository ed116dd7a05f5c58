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

mod calls;
mod table;
pub use calls::*;
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
// The framework's common statuses, also here for code that names them
// through this module.
pub use super::{
    STATUS_DELETE_PENDING, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_STATE,
    STATUS_INVALID_PARAMETER,
};

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
