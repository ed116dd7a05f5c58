//! `FxValidateObjectAttributes` and `FxValidateObjectAttributesForParentHandle`
//! (Windows-Driver-Frameworks `fxvalidatefunctions.cpp` / `.h`): the
//! statuses, in the framework's order.

use ntwork_sys::NTSTATUS;
use ntwork_sys::wdf::{self as w, WDF_OBJECT_ATTRIBUTES};

use super::status;

/// `FxValidateObjectAttributesForParentHandle` with a parent required: NULL
/// attributes or parent: `STATUS_WDF_PARENT_NOT_SPECIFIED`; a wrong `Size`:
/// `STATUS_INFO_LENGTH_MISMATCH`.
pub(super) fn attributes_for_parent(
    attributes: Option<&WDF_OBJECT_ATTRIBUTES>,
) -> Result<WDF_OBJECT_ATTRIBUTES, NTSTATUS> {
    let attributes = attributes.ok_or(w::STATUS_WDF_PARENT_NOT_SPECIFIED)?;
    if attributes.Size as usize != size_of::<WDF_OBJECT_ATTRIBUTES>() {
        return Err(w::STATUS_INFO_LENGTH_MISMATCH);
    }
    if attributes.ParentObject.is_null() {
        return Err(w::STATUS_WDF_PARENT_NOT_SPECIFIED);
    }
    Ok(*attributes)
}

/// `FxValidateObjectAttributes` for an object that allows neither an
/// execution level nor a synchronization scope of its own (a work item, a
/// context added later); `parent_not_allowed` for `WdfObjectAllocateContext`
/// (KMDF 1.11 and later).
pub(super) fn object_attributes(
    attributes: &WDF_OBJECT_ATTRIBUTES,
    parent_not_allowed: bool,
) -> Result<(), NTSTATUS> {
    if attributes.Size as usize != size_of::<WDF_OBJECT_ATTRIBUTES>() {
        return Err(w::STATUS_INFO_LENGTH_MISMATCH);
    }
    // SAFETY: the driver's context type info, a static, if set.
    let info = unsafe { attributes.ContextTypeInfo.as_ref() };
    if let Some(info) = info {
        if info.Size as usize != size_of::<w::WDF_OBJECT_CONTEXT_TYPE_INFO>()
            && info.Size as usize != V1_0_CONTEXT_TYPE_INFO_SIZE
        {
            return Err(w::STATUS_INFO_LENGTH_MISMATCH);
        }
        if info.ContextSize > 0 && info.ContextName.is_null() {
            return Err(w::STATUS_WDF_OBJECT_ATTRIBUTES_INVALID);
        }
    }
    if attributes.ContextSizeOverride > 0 {
        match info {
            None => return Err(w::STATUS_WDF_OBJECT_ATTRIBUTES_INVALID),
            Some(info) if attributes.ContextSizeOverride < info.ContextSize => {
                return Err(w::STATUS_WDF_OBJECT_ATTRIBUTES_INVALID);
            }
            Some(_) => {}
        }
    }
    if parent_not_allowed && !attributes.ParentObject.is_null() {
        return Err(status::STATUS_WDF_PARENT_ASSIGNMENT_NOT_ALLOWED);
    }
    let level = attributes.ExecutionLevel;
    if level == w::WdfExecutionLevelInvalid || level > w::WdfExecutionLevelDispatch {
        return Err(w::STATUS_WDF_OBJECT_ATTRIBUTES_INVALID);
    }
    let scope = attributes.SynchronizationScope;
    if scope == w::WdfSynchronizationScopeInvalid || scope > w::WdfSynchronizationScopeNone {
        return Err(w::STATUS_WDF_OBJECT_ATTRIBUTES_INVALID);
    }
    if scope != w::WdfSynchronizationScopeInheritFromParent
        && scope != w::WdfSynchronizationScopeNone
    {
        return Err(status::STATUS_WDF_SYNCHRONIZATION_SCOPE_INVALID);
    }
    if level != w::WdfExecutionLevelInheritFromParent {
        return Err(status::STATUS_WDF_EXECUTION_LEVEL_INVALID);
    }
    Ok(())
}

/// `sizeof(WDF_OBJECT_CONTEXT_TYPE_INFO_V1_0)`: the 1.0 layout without
/// `EvtDriverGetUniqueContextType`.
const V1_0_CONTEXT_TYPE_INFO_SIZE: usize =
    size_of::<w::WDF_OBJECT_CONTEXT_TYPE_INFO>() - size_of::<usize>();
