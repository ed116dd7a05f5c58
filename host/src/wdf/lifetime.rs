//! Framework objects' lifetime as KMDF's `FxObject` keeps it
//! (Windows-Driver-Frameworks `src/framework/shared/object/fxobjectstatemachine.cpp`,
//! `src/framework/shared/core/fxworkitem.cpp`):
//!
//! * a reference count: the creation reference (held for the parent, released
//!   when the object is deleted or its parent destroys its children), plus
//!   any `WdfObjectReference`, plus what the kind takes (a work item: one
//!   until it is disposed, one per pending enqueue, and one on its parent);
//! * disposal (`WdfObjectDelete`, or the parent's): children first, then the
//!   kind's `Dispose` (a work item: marked running down, flushed unless from
//!   its own callback, its parent released), then every context's
//!   `EvtCleanupCallback`, inside the call that disposes;
//! * destruction at the last reference (`ProcessDestroy`): a cleanup not yet
//!   called, then every context's `EvtDestroyCallback`, then the memory (and
//!   every context space) goes;
//! * a work item's callbacks are passive: deleted, or released for the last
//!   time, above PASSIVE_LEVEL, its dispose or destroy is deferred to
//!   PASSIVE_LEVEL (KMDF's dispose list; here an `IO_WORKITEM`).

use std::time::{Duration, Instant};
use std::vec::Vec;

use ntwork_sys::{self as ffi, PIO_WORKITEM};

use super::object::{
    Kind, Lifecycle, OwnCallback, handle_ptr, lock, own_callback, wait_changed, waits_for_itself,
};
use crate::binding::current;
use crate::bugcheck::{BugCheck, HOST_MANUAL_WAIT_BLOCKS};
use crate::dispatch::manual_wait_blocks;
use crate::irql::current_irql;

/// One more reference on a live object (`ADDREF`).
pub(super) fn reference(handle: usize) {
    if let Some(object) = lock().objects.get_mut(&handle) {
        object.refs += 1;
    }
}

/// Drops a reference (`RELEASE`); at the last one the object is destroyed.
pub(super) fn release(handle: usize) {
    let last = {
        let mut reg = lock();
        let Some(object) = reg.objects.get_mut(&handle) else {
            return;
        };
        object.refs -= 1;
        object.refs == 0
    };
    // A work item's destroy callbacks are passive: at a higher IRQL KMDF
    // defers them to its dispose list.
    if last && !(defers_at(handle) && defer(handle, Some(deferred_destroy))) {
        destroy(handle);
    }
}

/// `ProcessDestroy`: cleanup callbacks not yet called, then every context's
/// destroy callback, then the memory; a work item's `IO_WORKITEM` is freed
/// (it is not queued: every pending enqueue held a reference).
fn destroy(handle: usize) {
    let callbacks: Vec<_> = {
        let mut reg = lock();
        let Some(object) = reg.objects.get_mut(&handle) else {
            return;
        };
        object
            .contexts
            .iter_mut()
            .map(|c| (c.cleanup.take(), c.destroy.take()))
            .collect()
    };
    let object_handle = handle_ptr(handle);
    for (cleanup, destroy) in callbacks {
        if let Some(cleanup) = cleanup {
            // SAFETY: the driver's cleanup callback for its object, called once
            // (taken out), while the object's memory is still there.
            unsafe { cleanup(object_handle) };
        }
        if let Some(destroy) = destroy {
            // SAFETY: the driver's destroy callback, called once, before the
            // context memory goes.
            unsafe { destroy(object_handle) };
        }
    }
    let object = {
        let mut reg = lock();
        let Some(object) = reg.objects.remove(&handle) else {
            return;
        };
        if let Some(parent) = object.parent.and_then(|p| reg.objects.get_mut(&p)) {
            parent.children.retain(|&c| c != handle);
        }
        object
    };
    for context in object.contexts {
        // SAFETY: the context space of a destroyed object: nothing reaches
        // it through the framework any more; released once.
        unsafe { context.block.release() };
    }
    if let Kind::WorkItem(item) = object.kind {
        if let Some(parent) = item.associated {
            release(parent);
        }
        free_io_work_item(item.io.0.cast());
    }
}

/// Frees a work item's `IO_WORKITEM` through the kernel's export.
fn free_io_work_item(io: PIO_WORKITEM) {
    // SAFETY: the destroyed work item's own IO_WORKITEM, freed once (its
    // object is out of the table); not queued, because every pending enqueue
    // holds a reference on the object until its callback has run.
    unsafe { ffi::IoFreeWorkItem(io) };
}

/// `DeleteObject` above PASSIVE_LEVEL of an object whose dispose is passive
/// (a work item: `FxWorkItem` marks its callbacks passive, and its dispose
/// waits for its callback): KMDF defers the delete to a dispose list
/// (`FxObject::QueueDeferredDisposeLocked`, `FxDisposeList`), which a system
/// work item processes at PASSIVE_LEVEL; the object keeps a reference until
/// then. `false` (the caller deletes now) for another kind, at
/// PASSIVE_LEVEL, or when no `IO_WORKITEM` can be had.
pub(super) fn delete_deferred_above_passive(handle: usize) -> bool {
    if !defers_at(handle) {
        return false;
    }
    reference(handle);
    if defer(handle, Some(deferred_delete)) {
        return true;
    }
    // Not deferred: the caller deletes now, and the reference goes back
    // (the creation reference remains, so this is not the last).
    release(handle);
    false
}

/// Whether `handle` is a work item and the IRQL is above PASSIVE_LEVEL:
/// its dispose and destroy then wait for PASSIVE_LEVEL.
fn defers_at(handle: usize) -> bool {
    current_irql() != ffi::PASSIVE_LEVEL
        && lock()
            .objects
            .get(&handle)
            .is_some_and(|o| matches!(o.kind, Kind::WorkItem(_)))
}

/// Queues `routine` with `handle` on an `IO_WORKITEM` of the object's
/// driver object (the dispose list's system work item): it runs at
/// PASSIVE_LEVEL and keeps the driver object, so the image, until it returns.
fn defer(handle: usize, routine: ffi::PIO_WORKITEM_ROUTINE_EX) -> bool {
    let Some(driver) = lock().objects.get(&handle).map(|o| o.driver) else {
        return false;
    };
    // SAFETY: the object's live driver object (an object of the driver
    // exists, and its driver object outlives it).
    let io = unsafe { ffi::IoAllocateWorkItem(driver.0.cast()) };
    if io.is_null() {
        return false;
    }
    // SAFETY: a fresh IO_WORKITEM of a live driver object; the routine frees
    // it and does the job for `handle` once.
    unsafe {
        ffi::IoQueueWorkItemEx(
            io,
            routine,
            ffi::DelayedWorkQueue,
            handle_ptr(handle).cast(),
        )
    };
    true
}

/// The dispose list's deferred `DeleteObject`, at PASSIVE_LEVEL, then the
/// reference the deferral took.
unsafe extern "system" fn deferred_delete(
    _: *mut core::ffi::c_void,
    context: *mut core::ffi::c_void,
    io: PIO_WORKITEM,
) {
    let handle = context.addr();
    delete(handle, deferred_delete as *const () as usize);
    release(handle);
    // SAFETY: this routine's own IO_WORKITEM, allocated for this one run;
    // freeing it in its routine is allowed (the queue's reference on the
    // object lasts until the routine returns).
    unsafe { ffi::IoFreeWorkItem(io) };
}

/// The dispose list's deferred destroy (`FxObjectStateDeferedDestroy`), at
/// PASSIVE_LEVEL.
unsafe extern "system" fn deferred_destroy(
    _: *mut core::ffi::c_void,
    context: *mut core::ffi::c_void,
    io: PIO_WORKITEM,
) {
    destroy(context.addr());
    // SAFETY: this routine's own IO_WORKITEM, allocated for this one run;
    // freeing it in its routine is allowed (the queue's reference on the
    // driver object lasts until the routine returns).
    unsafe { ffi::IoFreeWorkItem(io) };
}

/// `DeleteObject`: a created object leaves its parent, is disposed and
/// deleted; an object its parent disposed already is deleted; others (being
/// disposed or deleted already) are left alone.
pub(super) fn delete(handle: usize, export: usize) {
    let state = {
        let mut reg = lock();
        let Some(object) = reg.objects.get(&handle) else {
            return;
        };
        let (state, parent) = (object.lifecycle, object.parent);
        if matches!(state, Lifecycle::Created | Lifecycle::Disposed)
            && let Some(parent) = parent.and_then(|p| reg.objects.get_mut(&p))
        {
            parent.children.retain(|&c| c != handle);
        }
        if let Some(object) = reg.objects.get_mut(&handle) {
            object.parent = None;
        }
        state
    };
    match state {
        Lifecycle::Created => {
            dispose(handle, export);
            deleted_and_disposed(handle);
        }
        Lifecycle::Disposed => deleted_and_disposed(handle),
        Lifecycle::Disposing | Lifecycle::Deleted => {}
    }
}

/// `DisposeChildrenWorker`: children first (each disposed, waiting for its
/// parent's delete), then the kind's `Dispose`, then the cleanup callbacks.
fn dispose(handle: usize, export: usize) {
    let children = {
        let mut reg = lock();
        let Some(object) = reg.objects.get_mut(&handle) else {
            return;
        };
        object.lifecycle = Lifecycle::Disposing;
        object.children.clone()
    };
    for child in children {
        let created = lock()
            .objects
            .get(&child)
            .is_some_and(|c| c.lifecycle == Lifecycle::Created);
        if created {
            dispose(child, export);
            if let Some(child) = lock().objects.get_mut(&child) {
                child.lifecycle = Lifecycle::Disposed;
            }
        }
    }
    let wdm_device = dispose_kind(handle, export);
    let cleanups: Vec<_> = {
        let mut reg = lock();
        let Some(object) = reg.objects.get_mut(&handle) else {
            return;
        };
        object
            .contexts
            .iter_mut()
            .filter_map(|c| c.cleanup.take())
            .collect()
    };
    let object_handle = handle_ptr(handle);
    for cleanup in cleanups {
        // SAFETY: the driver's cleanup callback for its object, called once
        // (taken out); the object and its context spaces are alive.
        unsafe { cleanup(object_handle) };
    }
    // A device's WDM device goes after its cleanup ran: KMDF calls the
    // cleanup "while the PDEVICE_OBJECT is valid" (`FxDevice::Dispose`).
    if let Some(device) = wdm_device {
        device.delete();
    }
}

/// The kind's `Dispose`: a work item is marked running down (later enqueues
/// are ignored), waited for unless this is its own callback's thread, and
/// lets go of its parent and of the reference its parent's link took; a
/// device returns its WDM device, which [`dispose`] deletes after the
/// device's cleanup callbacks.
fn dispose_kind(handle: usize, export: usize) -> Option<crate::Device> {
    let device = {
        let mut reg = lock();
        match reg.objects.get_mut(&handle).map(|o| &mut o.kind) {
            Some(Kind::WorkItem(item)) => {
                item.running_down = true;
                None
            }
            Some(Kind::Device(device)) => Some(device.device.clone()),
            _ => return None,
        }
    };
    if device.is_some() {
        return device;
    }
    match own_callback(handle) {
        OwnCallback::Recognized => {}
        OwnCallback::Unrecognized => {
            waits_for_itself(handle, export);
            return None;
        }
        OwnCallback::No => wait_until_idle(handle, export),
    }
    let parent = lock().item(handle).and_then(|item| item.associated.take());
    if let Some(parent) = parent {
        release(parent);
    }
    release(handle);
    None
}

/// `DeletedAndDisposedWorkerLocked`: the children the parent disposed are
/// deleted with it (`DestroyChildren`), then the creation reference goes.
fn deleted_and_disposed(handle: usize) {
    let children = {
        let mut reg = lock();
        let Some(object) = reg.objects.get_mut(&handle) else {
            return;
        };
        object.lifecycle = Lifecycle::Deleted;
        core::mem::take(&mut object.children)
    };
    for child in children {
        let disposed = {
            let mut reg = lock();
            match reg.objects.get_mut(&child) {
                Some(object) => {
                    object.parent = None;
                    object.lifecycle == Lifecycle::Disposed
                }
                None => false,
            }
        };
        if disposed {
            deleted_and_disposed(child);
        }
    }
    release(handle);
}

/// Waits until the work item is neither queued nor running (`WaitForSignal`
/// on `m_WorkItemCompleted`, set when the running count is 0 and nothing is
/// queued). A wait that only stepping a manual executive could end is the
/// host diagnostic `HOST_MANUAL_WAIT_BLOCKS`; a bug check ends it.
pub(super) fn wait_until_idle(handle: usize, export: usize) {
    let started = Instant::now();
    loop {
        let busy = {
            let mut reg = lock();
            let busy = reg
                .item(handle)
                .is_some_and(|item| item.enqueued || !item.running.is_empty());
            if busy {
                wait_changed(reg, Duration::from_millis(5));
            }
            busy
        };
        if !busy {
            return;
        }
        let inner = current();
        if inner.bug_check_recorded() {
            return;
        }
        if started.elapsed() > Duration::from_millis(200)
            && let Some(pending) = manual_wait_blocks(&inner)
        {
            inner.raise(BugCheck::new(
                HOST_MANUAL_WAIT_BLOCKS,
                [export, handle, pending, 0],
            ));
            return;
        }
    }
}

/// Deletes every framework device of `driver` (the framework deletes a
/// driver's objects when it unloads).
pub(super) fn delete_devices_of(driver: *mut ffi::DRIVER_OBJECT, export: usize) {
    let devices: Vec<usize> = lock()
        .objects
        .iter()
        .filter(|(_, o)| matches!(o.kind, Kind::Device(_)) && o.driver.0 == driver)
        .map(|(&handle, _)| handle)
        .collect();
    for device in devices {
        delete(device, export);
    }
}
