//! Framework work items (`FxWorkItem`): created on a parent whose chain
//! leads to a device, enqueued on the host's Io work items (an enqueue of a
//! queued item is ignored), run at PASSIVE_LEVEL under the device's lock when
//! serialized, flushed by waiting for a running callback.

#![allow(non_snake_case)]

use core::cell::Cell;
use core::ffi::c_void;
use core::ptr::null_mut;
use std::sync::Arc;
use std::vec::Vec;

use ntwork_sys::wdf::{self as w, PWDF_DRIVER_GLOBALS, WDFOBJECT, WDFWORKITEM};
use ntwork_sys::{self as ffi, NTSTATUS, STATUS_SUCCESS};

use super::object::{
    IN_CALLBACK, Kind, Object, device_of, dispose, new_handle, raise, too_high, wait_for,
    with_objects,
};
use crate::bugcheck::{BugCheck, HOST_UNKNOWN_OBJECT, HOST_WDF_VERIFIER_BREAK};

pub(super) unsafe extern "system" fn WdfWorkItemCreate(
    _: PWDF_DRIVER_GLOBALS,
    Config: *mut w::WDF_WORKITEM_CONFIG,
    Attributes: *mut w::WDF_OBJECT_ATTRIBUTES,
    WorkItem: *mut WDFWORKITEM,
) -> NTSTATUS {
    let export = WdfWorkItemCreate as *const () as usize;
    if too_high(export, 0, ffi::DISPATCH_LEVEL) {
        return w::STATUS_INVALID_DEVICE_STATE;
    }
    if Config.is_null() || WorkItem.is_null() {
        return w::STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller's valid config.
    let config = unsafe { *Config };
    if config.Size as usize != size_of::<w::WDF_WORKITEM_CONFIG>() {
        return w::STATUS_INFO_LENGTH_MISMATCH;
    }
    // SAFETY: the caller's attributes, if any.
    let Some(attributes) = (unsafe { Attributes.as_ref() }).copied() else {
        return w::STATUS_WDF_PARENT_NOT_SPECIFIED;
    };
    if attributes.Size as usize != size_of::<w::WDF_OBJECT_ATTRIBUTES>() {
        return w::STATUS_INFO_LENGTH_MISMATCH;
    }
    let parent = attributes.ParentObject as usize;
    if parent == 0 {
        return w::STATUS_WDF_PARENT_NOT_SPECIFIED;
    }
    let found = with_objects(|objects| {
        let device = device_of(objects, parent)?;
        match &objects[&device].kind {
            Kind::Device {
                device,
                passive,
                synchronized,
                ..
            } => Some((device.as_raw(), *passive, *synchronized)),
            _ => None,
        }
    });
    let Some((device_object, passive, synchronized)) = found else {
        raise(BugCheck::new(HOST_UNKNOWN_OBJECT, [export, parent, 0, 0]));
        return w::STATUS_INVALID_PARAMETER;
    };
    let serialized = config.AutomaticSerialization != 0;
    if serialized && synchronized && !passive {
        return w::STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL;
    }
    // SAFETY: a live device object of the executive.
    let io = unsafe { ffi::IoAllocateWorkItem(device_object) };
    if io.is_null() {
        return w::STATUS_INSUFFICIENT_RESOURCES;
    }
    let context = (!attributes.ContextTypeInfo.is_null()).then(|| {
        // SAFETY: the caller's type info.
        let size = unsafe { (*attributes.ContextTypeInfo).ContextSize }
            .max(attributes.ContextSizeOverride)
            .max(1);
        let layout = core::alloc::Layout::from_size_align(size, 16)
            .unwrap_or(core::alloc::Layout::new::<u128>());
        // SAFETY: a non-zero layout.
        let memory = unsafe { std::alloc::alloc_zeroed(layout) }.addr();
        (attributes.ContextTypeInfo, memory, layout.size())
    });
    let handle = new_handle();
    with_objects(|objects| {
        objects.insert(
            handle,
            Object {
                kind: Kind::WorkItem {
                    io: io as usize,
                    callback: config.EvtWorkItemFunc,
                    serialized,
                    queued: false,
                    running_on: None,
                    delete_pending: false,
                },
                parent: Some(parent),
                children: Vec::new(),
                context,
                cleanup: attributes.EvtCleanupCallback,
                extra: Vec::new(),
                disposing: false,
            },
        );
        if let Some(parent) = objects.get_mut(&parent) {
            parent.children.push(handle);
        }
    });
    // SAFETY: the caller's out pointer.
    unsafe { WorkItem.write(handle as WDFWORKITEM) };
    STATUS_SUCCESS
}

pub(super) unsafe extern "system" fn WdfWorkItemEnqueue(
    _: PWDF_DRIVER_GLOBALS,
    WorkItem: WDFWORKITEM,
) {
    let export = WdfWorkItemEnqueue as *const () as usize;
    let handle = WorkItem as usize;
    if too_high(export, handle, ffi::DISPATCH_LEVEL) {
        return;
    }
    let io = with_objects(
        |objects| match objects.get_mut(&handle).map(|o| &mut o.kind) {
            Some(Kind::WorkItem { queued, io, .. }) => {
                if *queued {
                    return Ok(None);
                }
                *queued = true;
                Ok(Some(*io))
            }
            _ => Err(()),
        },
    );
    match io {
        Ok(Some(io)) => {
            // SAFETY: the item's own IO_WORKITEM, not queued (the flag).
            unsafe {
                ffi::IoQueueWorkItemEx(
                    io as ffi::PIO_WORKITEM,
                    Some(run_callback),
                    ffi::DelayedWorkQueue,
                    handle as *mut c_void,
                );
            }
        }
        Ok(None) => {} // queued already: ignored, as KMDF 1.7+ does
        Err(()) => raise(BugCheck::new(HOST_UNKNOWN_OBJECT, [export, handle, 0, 0])),
    }
}

/// The Io routine behind every WDF work item.
unsafe extern "system" fn run_callback(_: *mut c_void, context: *mut c_void, _: ffi::PIO_WORKITEM) {
    let handle = context as usize;
    let me = std::thread::current().id();
    let found = with_objects(|objects| {
        let lock = {
            let object = objects.get(&handle)?;
            let Kind::WorkItem { serialized, .. } = object.kind else {
                return None;
            };
            let device = device_of(objects, object.parent?)?;
            match &objects[&device].kind {
                Kind::Device {
                    synchronized: true,
                    lock,
                    ..
                } if serialized => Some(Arc::clone(lock)),
                _ => None,
            }
        };
        let Kind::WorkItem {
            queued,
            running_on,
            callback,
            ..
        } = &mut objects.get_mut(&handle)?.kind
        else {
            return None;
        };
        *queued = false;
        *running_on = Some(me);
        Some((*callback, lock))
    });
    let Some((callback, lock)) = found else {
        return;
    };
    {
        let _serialized = lock.as_ref().map(|lock| lock.lock());
        let previous = IN_CALLBACK.with(|c| c.replace(handle));
        if let Some(callback) = callback {
            // SAFETY: the driver's callback for its item.
            unsafe { callback(handle as WDFWORKITEM) };
        }
        IN_CALLBACK.with(|c| c.set(previous));
    }
    let dispose_now = with_objects(
        |objects| match objects.get_mut(&handle).map(|o| &mut o.kind) {
            Some(Kind::WorkItem {
                running_on,
                delete_pending,
                ..
            }) => {
                *running_on = None;
                *delete_pending
            }
            _ => false,
        },
    );
    if dispose_now {
        let export = super::object::WdfObjectDelete as *const () as usize;
        dispose(handle, export);
    }
}

pub(super) unsafe extern "system" fn WdfWorkItemFlush(
    _: PWDF_DRIVER_GLOBALS,
    WorkItem: WDFWORKITEM,
) {
    let export = WdfWorkItemFlush as *const () as usize;
    let handle = WorkItem as usize;
    if IN_CALLBACK.with(Cell::get) == handle {
        // Driver Verifier breaks: the flush would wait for itself.
        raise(BugCheck::new(
            HOST_WDF_VERIFIER_BREAK,
            [1, handle, export, 0],
        ));
        return;
    }
    if too_high(export, handle, ffi::PASSIVE_LEVEL) {
        return;
    }
    wait_for(handle, export);
}

pub(super) unsafe extern "system" fn WdfWorkItemGetParentObject(
    _: PWDF_DRIVER_GLOBALS,
    WorkItem: WDFWORKITEM,
) -> WDFOBJECT {
    with_objects(|objects| {
        objects
            .get(&(WorkItem as usize))
            .and_then(|o| o.parent)
            .map_or(null_mut(), |p| p as WDFOBJECT)
    })
}
