//! The framework's statuses the host returns that `ntwork_sys::wdf` does not
//! declare (values from `wdfstatus.h` and `ntstatus.h`).

use ntwork_sys::NTSTATUS;

/// `STATUS_WDF_EXECUTION_LEVEL_INVALID`: an execution level on an object
/// that takes its parent's (a work item).
pub const STATUS_WDF_EXECUTION_LEVEL_INVALID: NTSTATUS = 0xC020_0211_u32 as NTSTATUS;
/// `STATUS_WDF_SYNCHRONIZATION_SCOPE_INVALID`: a synchronization scope other
/// than inherit or none on an object that takes its parent's.
pub const STATUS_WDF_SYNCHRONIZATION_SCOPE_INVALID: NTSTATUS = 0xC020_0210_u32 as NTSTATUS;
/// `STATUS_WDF_PARENT_ASSIGNMENT_NOT_ALLOWED`: a parent in
/// `WdfObjectAllocateContext`'s attributes.
pub const STATUS_WDF_PARENT_ASSIGNMENT_NOT_ALLOWED: NTSTATUS = 0xC020_020F_u32 as NTSTATUS;
/// `STATUS_INVALID_DEVICE_REQUEST`: a work item whose parent chain leads to
/// no device.
pub const STATUS_INVALID_DEVICE_REQUEST: NTSTATUS = 0xC000_0010_u32 as NTSTATUS;
/// `STATUS_OBJECT_NAME_INVALID`: `WdfObjectAllocateContext` without a
/// context type.
pub const STATUS_OBJECT_NAME_INVALID: NTSTATUS = 0xC000_0033_u32 as NTSTATUS;
