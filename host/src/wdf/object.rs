//! Framework objects: the registry of handles, each object's parent and
//! children, context space, and disposal (children first, then the object's
//! cleanup callbacks).

use core::cell::Cell;
use std::boxed::Box;
use std::collections::HashMap;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};
use std::vec::Vec;

use ntwork_sys::wdf::{
    PCWDF_OBJECT_CONTEXT_TYPE_INFO, PFN_WDF_OBJECT_CONTEXT_CLEANUP, PFN_WDF_WORKITEM,
    PWDF_DRIVER_GLOBALS, WDFOBJECT,
};
use ntwork_sys::{self as ffi};

use crate::binding::current;
use crate::bugcheck::{
    BugCheck, HOST_IRQL_ABOVE_DISPATCH, HOST_MANUAL_WAIT_BLOCKS, HOST_UNKNOWN_OBJECT,
};
use crate::dispatch::manual_wait_blocks;
use crate::irql::current_irql;
use crate::sync::Mutex;

/// What a host framework object is.
pub(super) enum Kind {
    Device {
        /// The WDM device object underneath (for the Io work items).
        device: crate::Device,
        /// `WdfExecutionLevelPassive` (else dispatch).
        passive: bool,
        /// `WdfSynchronizationScopeDevice` (else none).
        synchronized: bool,
        /// The device's synchronization lock.
        lock: Arc<Mutex<()>>,
    },
    Queue,
    WorkItem {
        io: usize,
        callback: PFN_WDF_WORKITEM,
        serialized: bool,
        queued: bool,
        running_on: Option<ThreadId>,
        delete_pending: bool,
    },
}

pub(super) struct Object {
    pub(super) kind: Kind,
    pub(super) parent: Option<usize>,
    pub(super) children: Vec<usize>,
    pub(super) context: Option<(PCWDF_OBJECT_CONTEXT_TYPE_INFO, usize, usize)>,
    pub(super) cleanup: PFN_WDF_OBJECT_CONTEXT_CLEANUP,
    /// Context space added by `WdfObjectAllocateContext`, each with its own
    /// cleanup callback.
    pub(super) extra: Vec<(
        PCWDF_OBJECT_CONTEXT_TYPE_INFO,
        usize,
        usize,
        PFN_WDF_OBJECT_CONTEXT_CLEANUP,
    )>,
    /// Being disposed: `WdfObjectAllocateContext` is `STATUS_DELETE_PENDING`.
    pub(super) disposing: bool,
}

// SAFETY: the raw pointers are handles and framework-owned memory, used only
// under the registry's lock or by the framework's own calls.
unsafe impl Send for Object {}

static OBJECTS: Mutex<Option<HashMap<usize, Object>>> = Mutex::new(None);

pub(super) fn with_objects<T>(f: impl FnOnce(&mut HashMap<usize, Object>) -> T) -> T {
    let mut guard = OBJECTS.lock();
    f(guard.get_or_insert_with(HashMap::new))
}

std::thread_local! {
    /// The work item whose callback runs on this thread.
    pub(super) static IN_CALLBACK: Cell<usize> = const { Cell::new(0) };
}

/// A fresh handle value: the address of a leaked byte, unique for the process.
pub(super) fn new_handle() -> usize {
    Box::into_raw(Box::new(0u8)).addr()
}

pub(super) fn raise(bug_check: BugCheck) {
    current().raise(bug_check);
}

pub(super) fn too_high(export: usize, object: usize, limit: u8) -> bool {
    let irql = current_irql();
    if irql <= limit {
        return false;
    }
    raise(BugCheck::new(
        HOST_IRQL_ABOVE_DISPATCH,
        [export, irql.into(), object, 0],
    ));
    true
}

/// The device a parent chain leads to.
pub(super) fn device_of(objects: &HashMap<usize, Object>, mut handle: usize) -> Option<usize> {
    loop {
        let object = objects.get(&handle)?;
        if matches!(object.kind, Kind::Device { .. }) {
            return Some(handle);
        }
        handle = object.parent?;
    }
}

/// Waits until the work item is neither queued nor running.
pub(super) fn wait_for(handle: usize, export: usize) {
    let started = Instant::now();
    loop {
        let busy = with_objects(|objects| match objects.get(&handle).map(|o| &o.kind) {
            Some(Kind::WorkItem {
                queued, running_on, ..
            }) => *queued || running_on.is_some(),
            _ => false,
        });
        if !busy {
            return;
        }
        if started.elapsed() > Duration::from_millis(200)
            && let Some(pending) = manual_wait_blocks(&current())
        {
            raise(BugCheck::new(
                HOST_MANUAL_WAIT_BLOCKS,
                [export, handle, pending, 0],
            ));
            return;
        }
        if current().bug_check_recorded() {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[allow(non_snake_case)]
/// `WdfObjectDelete`.
pub(super) unsafe extern "system" fn WdfObjectDelete(_: PWDF_DRIVER_GLOBALS, Object: WDFOBJECT) {
    let export = WdfObjectDelete as *const () as usize;
    delete_object(Object.addr(), export);
}

/// `WdfObjectDelete`: a work item inside its own callback is disposed when
/// the callback returns; otherwise running callbacks are waited for,
/// children are disposed first, then the object's cleanup runs.
pub(super) fn delete_object(handle: usize, export: usize) {
    let in_own_callback = IN_CALLBACK.with(Cell::get) == handle;
    let is_item = with_objects(
        |objects| match objects.get_mut(&handle).map(|o| &mut o.kind) {
            Some(Kind::WorkItem { delete_pending, .. }) => {
                if in_own_callback {
                    *delete_pending = true;
                }
                Some(true)
            }
            Some(_) => Some(false),
            None => None,
        },
    );
    match is_item {
        None => raise(BugCheck::new(HOST_UNKNOWN_OBJECT, [export, handle, 0, 0])),
        Some(true) if in_own_callback => {}
        Some(_) => {
            wait_for(handle, export);
            dispose(handle, export);
        }
    }
}

/// Disposes `handle` and its children (children first), running cleanup
/// callbacks, freeing context space and the Io work items.
pub(super) fn dispose(handle: usize, export: usize) {
    let children = with_objects(|objects| {
        objects
            .get_mut(&handle)
            .map(|o| {
                o.disposing = true;
                core::mem::take(&mut o.children)
            })
            .unwrap_or_default()
    });
    for child in children {
        wait_for(child, export);
        dispose(child, export);
    }
    let cleanup = with_objects(|objects| objects.get(&handle).and_then(|o| o.cleanup));
    if let Some(cleanup) = cleanup {
        // SAFETY: the driver's cleanup callback for its object, once.
        unsafe { cleanup(handle as WDFOBJECT) };
    }
    let extra_cleanups: Vec<_> = with_objects(|objects| {
        objects.get(&handle).map_or_else(Vec::new, |o| {
            o.extra
                .iter()
                .filter_map(|&(_, _, _, cleanup)| cleanup)
                .collect()
        })
    });
    for cleanup in extra_cleanups {
        // SAFETY: the cleanup callback of a context the driver added, once.
        unsafe { cleanup(handle as WDFOBJECT) };
    }
    let Some(object) = with_objects(|objects| {
        let object = objects.remove(&handle)?;
        if let Some(parent) = object.parent.and_then(|p| objects.get_mut(&p)) {
            parent.children.retain(|&c| c != handle);
        }
        Some(object)
    }) else {
        return;
    };
    if let Some((_, memory, size)) = object.context
        && let Ok(layout) = core::alloc::Layout::from_size_align(size, 16)
    {
        // SAFETY: allocated in WdfWorkItemCreate with this layout, freed once.
        unsafe { std::alloc::dealloc(memory as *mut u8, layout) };
    }
    for (_, memory, size, _) in object.extra {
        if let Ok(layout) = core::alloc::Layout::from_size_align(size, 16) {
            // SAFETY: allocated in WdfObjectAllocateContext with this layout,
            // freed once.
            unsafe { std::alloc::dealloc(memory as *mut u8, layout) };
        }
    }
    match object.kind {
        // SAFETY: the item's IO_WORKITEM, no longer queued (waited for).
        Kind::WorkItem { io, .. } => unsafe { ffi::IoFreeWorkItem(io as ffi::PIO_WORKITEM) },
        Kind::Device { device, .. } => device.delete(),
        Kind::Queue => {}
    }
}

/// Disposes every framework object whose device belongs to `devices` (the
/// framework deletes a driver's objects when it unloads).
pub(super) fn dispose_for_devices(devices: &[usize], export: usize) {
    let roots: Vec<usize> = with_objects(|objects| {
        objects
            .iter()
            .filter_map(|(&handle, object)| match &object.kind {
                Kind::Device { device, .. } if devices.contains(&(device.as_raw() as usize)) => {
                    Some(handle)
                }
                _ => None,
            })
            .collect()
    });
    for root in roots {
        dispose(root, export);
    }
}
