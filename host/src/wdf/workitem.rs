//! Framework work items, as KMDF's `FxWorkItem` (Windows-Driver-Frameworks
//! `src/framework/shared/core/fxworkitem.cpp`, `fxworkitemapi.cpp`): created
//! on a parent whose chain leads to a device, run on the host's Io work
//! items, an enqueue of a queued item (or of one being deleted) ignored, the
//! queued flag cleared before the callback, flush waiting on the count of
//! running callbacks.

#![allow(non_snake_case)]

use core::ffi::c_void;
use std::sync::Arc;
use std::vec::Vec;

use ntwork_sys::wdf::{self as w, PWDF_DRIVER_GLOBALS, WDFOBJECT, WDFWORKITEM};
use ntwork_sys::{self as ffi, NTSTATUS, PASSIVE_LEVEL, STATUS_SUCCESS};

use super::globals::{irql_above, null_parameter, object_of, verifier_break};
use super::lifetime::{release, wait_until_idle};
use super::object::{
    Context, FX_TYPE_OBJECT, FX_TYPE_WORKITEM, Header, Kind, Lifecycle, Object, OwnCallback,
    WorkItemState, device_of, handle_ptr, insert_holding_parent, lock, notify, own_callback,
    waits_for_itself,
};
use super::status;
use super::validate::{attributes_for_parent, object_attributes};
use crate::objects::allocate_zeroed;
use crate::state::Ptr;

/// What the parent chain gives a new work item: the WDM device and the
/// serialization lock.
struct Parent {
    device: ffi::PDEVICE_OBJECT,
    lock: Option<Arc<crate::sync::Mutex<()>>>,
    driver: Ptr<ffi::DRIVER_OBJECT>,
}

/// `FxDeviceBase::_SearchForDevice` and `_GetEffectiveLock`.
fn parent_of(parent: usize, serialized: bool) -> Result<Parent, NTSTATUS> {
    let reg = lock();
    let device = device_of(&reg, parent).ok_or(status::STATUS_INVALID_DEVICE_REQUEST)?;
    let object = &reg.objects[&device];
    let Kind::Device(state) = &object.kind else {
        return Err(status::STATUS_INVALID_DEVICE_REQUEST);
    };
    let lock = match (serialized, state.synchronized, state.passive) {
        (true, true, false) => return Err(w::STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL),
        (true, true, true) => Some(Arc::clone(&state.lock)),
        _ => None,
    };
    Ok(Parent {
        device: state.device.as_raw(),
        lock,
        driver: object.driver,
    })
}

/// `WdfWorkItemCreate`, checking in KMDF's order: the attributes and the
/// parent handle, Config and the out pointer (0x10D/4), Config's size, the
/// callback, the attributes' fields, then the parent chain and allocation.
pub(super) unsafe extern "system" fn WdfWorkItemCreate(
    _: PWDF_DRIVER_GLOBALS,
    Config: *mut w::WDF_WORKITEM_CONFIG,
    Attributes: *mut w::WDF_OBJECT_ATTRIBUTES,
    WorkItem: *mut WDFWORKITEM,
) -> NTSTATUS {
    let export = WdfWorkItemCreate as *const () as usize;
    if irql_above(export, 0, ffi::DISPATCH_LEVEL) {
        return w::STATUS_INVALID_DEVICE_STATE;
    }
    // SAFETY: `Attributes` is NULL or points to the driver's initialized
    // `WDF_OBJECT_ATTRIBUTES` (KMDF's contract); the borrow is copied at once.
    let attributes = unsafe { Attributes.as_ref() }.copied();
    let attributes = match attributes_for_parent(attributes.as_ref()) {
        Ok(attributes) => attributes,
        Err(status) => return status,
    };
    let Some(parent) = object_of(attributes.ParentObject, FX_TYPE_OBJECT, export) else {
        return w::STATUS_INVALID_PARAMETER;
    };
    if null_parameter(Config, export) || null_parameter(WorkItem, export) {
        return w::STATUS_INVALID_PARAMETER;
    }
    // SAFETY: checked non-NULL; the caller's config.
    let config = unsafe { *Config };
    if config.Size as usize != size_of::<w::WDF_WORKITEM_CONFIG>() {
        return w::STATUS_INFO_LENGTH_MISMATCH;
    }
    let Some(callback) = config.EvtWorkItemFunc else {
        return w::STATUS_INVALID_PARAMETER;
    };
    if let Err(status) = object_attributes(&attributes, false) {
        return status;
    }
    let found = parent_of(parent, config.AutomaticSerialization != 0);
    let Parent {
        device,
        lock: serialization,
        driver,
    } = match found {
        Ok(found) => found,
        Err(status) => return status,
    };
    // SAFETY: a live device object of the executive (the parent's device).
    let io = unsafe { ffi::IoAllocateWorkItem(device) };
    if io.is_null() {
        return w::STATUS_INSUFFICIENT_RESOURCES;
    }
    let object = Object {
        header: Header::new(),
        kind: Kind::WorkItem(WorkItemState {
            io: Ptr(io),
            callback,
            lock: serialization,
            enqueued: false,
            running: Vec::new(),
            thread: None,
            running_down: false,
            associated: Some(parent),
        }),
        lifecycle: Lifecycle::Created,
        // The creation reference, and `Initialize`'s own until disposal.
        refs: 2,
        parent: Some(parent),
        children: Vec::new(),
        contexts: new_context(&attributes).into_iter().collect(),
        driver,
    };
    // The work item holds a reference on its parent until it is disposed; a
    // parent being deleted takes no child (`AddChildObjectInternal`), and the
    // failed create frees what it allocated (`DeleteFromFailedCreate`).
    let handle = match insert_holding_parent(object) {
        Ok(handle) => handle,
        Err(refused) => {
            let object = *refused;
            // `ClearEvtCallbacks`: the driver's callbacks are not called.
            for context in object.contexts {
                // SAFETY: the context space of an object never registered:
                // nothing reaches it; released once.
                unsafe { context.block.release() };
            }
            if let Kind::WorkItem(item) = object.kind {
                // SAFETY: the IO_WORKITEM allocated above for this item, never
                // queued; freed once, here.
                unsafe { ffi::IoFreeWorkItem(item.io.0) };
            }
            return w::STATUS_DELETE_PENDING;
        }
    };
    // SAFETY: checked non-NULL; the caller's out pointer.
    unsafe { WorkItem.write(handle.cast()) };
    STATUS_SUCCESS
}

/// The context the attributes ask for (zeroed; the override's size if set),
/// with the attributes' cleanup and destroy callbacks.
pub(super) fn new_context(attributes: &w::WDF_OBJECT_ATTRIBUTES) -> Option<Context> {
    let info = attributes.ContextTypeInfo;
    let with_callbacks =
        attributes.EvtCleanupCallback.is_some() || attributes.EvtDestroyCallback.is_some();
    if info.is_null() && !with_callbacks {
        return None;
    }
    let size = if attributes.ContextSizeOverride != 0 {
        attributes.ContextSizeOverride
    } else {
        // SAFETY: the driver's context type info, a static, if set.
        unsafe { info.as_ref() }.map_or(0, |i| i.ContextSize)
    };
    Some(Context {
        info: Ptr(info.cast_mut()),
        block: allocate_zeroed(size),
        cleanup: attributes.EvtCleanupCallback,
        destroy: attributes.EvtDestroyCallback,
    })
}

/// `WdfWorkItemEnqueue`: ignored while queued (KMDF 1.7+), and for an item
/// being deleted (a verifier break only); otherwise it takes a reference
/// until the callback has run and queues the item's `IO_WORKITEM`.
pub(super) unsafe extern "system" fn WdfWorkItemEnqueue(
    _: PWDF_DRIVER_GLOBALS,
    WorkItem: WDFWORKITEM,
) {
    let export = WdfWorkItemEnqueue as *const () as usize;
    let Some(handle) = object_of(WorkItem, FX_TYPE_WORKITEM, export) else {
        return;
    };
    if irql_above(export, handle, ffi::DISPATCH_LEVEL) {
        return;
    }
    enum Verdict {
        Queued(Ptr<ffi::IO_WORKITEM>),
        AlreadyQueued,
        RunningDown,
    }
    let verdict = {
        let mut reg = lock();
        let Some(object) = reg.objects.get_mut(&handle) else {
            return;
        };
        let Kind::WorkItem(item) = &mut object.kind else {
            return;
        };
        if item.enqueued {
            Verdict::AlreadyQueued
        } else if item.running_down {
            Verdict::RunningDown
        } else {
            item.enqueued = true;
            object.refs += 1;
            let Kind::WorkItem(item) = &object.kind else {
                return;
            };
            Verdict::Queued(item.io)
        }
    };
    match verdict {
        Verdict::Queued(io) => {
            let context = handle_ptr(handle).cast::<c_void>();
            // SAFETY: the item's own IO_WORKITEM, not queued (the flag), kept
            // until the object is destroyed, which the reference taken above
            // prevents until the callback has run.
            unsafe {
                ffi::IoQueueWorkItemEx(io.0, Some(run_callback), ffi::DelayedWorkQueue, context);
            }
        }
        Verdict::AlreadyQueued => {}
        Verdict::RunningDown => verifier_break(2, handle, export),
    }
}

/// The Io routine behind every work item (`WorkItemThunk` and
/// `WorkItemHandler`): clears the queued flag, counts the running callback,
/// calls it (under the device's lock when serialized), then drops the
/// enqueue's reference, which may destroy the object.
unsafe extern "system" fn run_callback(_: *mut c_void, context: *mut c_void, _: ffi::PIO_WORKITEM) {
    let handle = context.addr();
    let me = std::thread::current().id();
    let found = lock().item(handle).map(|item| {
        item.enqueued = false;
        item.running.push(me);
        item.thread = Some(me);
        (item.callback, item.lock.clone())
    });
    let Some((callback, serialization)) = found else {
        return;
    };
    {
        let _serialized = serialization.as_ref().map(|lock| lock.lock());
        // SAFETY: the driver's callback for its item; the object lives (the
        // enqueue's reference).
        unsafe { callback(context.cast()) };
    }
    if let Some(item) = lock().item(handle)
        && let Some(at) = item.running.iter().position(|&t| t == me)
    {
        item.running.swap_remove(at);
        item.thread = None;
    }
    notify();
    release(handle);
}

/// `WdfWorkItemFlush`: waits until no callback runs and none is queued.
/// From the item's own callback it returns at once (a verifier break when
/// the KMDF verifier is on): waiting would deadlock.
pub(super) unsafe extern "system" fn WdfWorkItemFlush(
    _: PWDF_DRIVER_GLOBALS,
    WorkItem: WDFWORKITEM,
) {
    let export = WdfWorkItemFlush as *const () as usize;
    let Some(handle) = object_of(WorkItem, FX_TYPE_WORKITEM, export) else {
        return;
    };
    if irql_above(export, handle, PASSIVE_LEVEL) {
        return;
    }
    match own_callback(handle) {
        OwnCallback::Recognized => return verifier_break(1, handle, export),
        OwnCallback::Unrecognized => return waits_for_itself(handle, export),
        OwnCallback::No => {}
    }
    wait_until_idle(handle, export);
}

/// `WdfWorkItemGetParentObject`: the parent the item is associated with, or
/// NULL once it is disposed (`m_Object` is cleared then).
pub(super) unsafe extern "system" fn WdfWorkItemGetParentObject(
    _: PWDF_DRIVER_GLOBALS,
    WorkItem: WDFWORKITEM,
) -> WDFOBJECT {
    let export = WdfWorkItemGetParentObject as *const () as usize;
    let Some(handle) = object_of(WorkItem, FX_TYPE_WORKITEM, export) else {
        return core::ptr::null_mut();
    };
    let parent = lock().item(handle).and_then(|item| item.associated);
    parent.map_or(core::ptr::null_mut(), handle_ptr)
}
