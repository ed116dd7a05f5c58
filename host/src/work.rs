//! The kernel semantics of the work-item functions, on an executive.
//!
//! Each function validates as the kernel does, in the kernel's order, raises
//! the kernel's bug check (or, where Windows checks nothing, a labelled host
//! diagnostic) on a violation and then returns without doing the operation.

use core::ffi::c_void;
use std::boxed::Box;
use std::sync::Arc;

use ntwork_sys::{self as ffi, IO_WORKITEM, PIO_WORKITEM, WORK_QUEUE_ITEM, WORK_QUEUE_TYPE};

use crate::bugcheck::{
    BugCheck, DRIVER_VERIFIER_DETECTED_VIOLATION, HOST_IO_WORKITEM_OVERRUN,
    HOST_REINITIALIZED_QUEUED_ITEM, HOST_ROUTINE_IMAGE_UNKNOWN, HOST_UNKNOWN_IO_WORKITEM,
    HOST_UNKNOWN_OBJECT, WORKER_INVALID,
};
use crate::checks::{irql_too_high, negative_queue_type, not_in_target, null_item, queue_invalid};
use crate::context::image_of;
use crate::dispatch;
use crate::faults::FaultSite;
pub(crate) use crate::io_item::IoRoutine;
use crate::io_item::{HostIoWorkItem, IO_WORKITEM_SIZE, ROUTINE_FIELD, io_trampoline};
use crate::objects;
use crate::state::{Entry, Inner, IoRec, State};
use crate::version::{WindowsVersion, queue_index_on};

/// 0xE4/2 for freeing or uninitializing a queued Io item: P3 is the address
/// of the item's Routine field.
fn freed_while_queued(item: usize) -> BugCheck {
    BugCheck::new(WORKER_INVALID, [2, item, item + ROUTINE_FIELD, 0])
}

/// A host diagnostic when the tail guard of a known Io item was overwritten.
fn guard_broken(inner: &Inner, st: &mut State, item: PIO_WORKITEM) -> bool {
    let io = item.cast::<HostIoWorkItem>();
    // SAFETY: `item` is a tracked, live IO_WORKITEM of IO_WORKITEM_SIZE bytes.
    if unsafe { (*io).guard_intact() } {
        return false;
    }
    let block = crate::pool::block_containing(item.addr()).unwrap_or((0, 0));
    inner.raise_locked(
        st,
        BugCheck::new(
            HOST_IO_WORKITEM_OVERRUN,
            [item.addr(), block.0, block.1, IO_WORKITEM_SIZE],
        ),
    );
    true
}

/// `ExQueueWorkItem`, checking in the kernel's order: Flink (0xE4/1), the
/// queue type (0xE4/6), the routine (0xE4/7).
pub(crate) fn ex_queue(
    inner: &Arc<Inner>,
    item: *mut WORK_QUEUE_ITEM,
    queue_type: WORK_QUEUE_TYPE,
    export: usize,
) {
    let mut st = inner.lock();
    if st.bug_check.is_some()
        || null_item(inner, &mut st, item.cast(), export)
        || irql_too_high(inner, &mut st, item.addr(), export)
    {
        return;
    }
    // SAFETY: `item` is non-NULL (checked) and a valid WORK_QUEUE_ITEM, as
    // `ExQueueWorkItem`, the one caller, requires of its `WorkItem`.
    let flink = unsafe { (*item).List.Flink };
    // SAFETY: `item` is a valid WORK_QUEUE_ITEM (`ExQueueWorkItem`'s
    // contract on its `WorkItem`), and non-NULL (checked).
    let routine = unsafe { (*item).WorkerRoutine };
    if !flink.is_null() {
        return inner.raise_locked(&mut st, queue_invalid(1, item.addr(), queue_type));
    }
    if negative_queue_type(inner, &mut st, item.addr(), queue_type) {
        return;
    }
    let Some(index) = queue_index_on(st.target, queue_type) else {
        return inner.raise_locked(&mut st, queue_invalid(6, item.addr(), queue_type));
    };
    let Some(routine) = routine else {
        let bad = BugCheck::new(WORKER_INVALID, [7, item.addr(), 0, 0]);
        return inner.raise_locked(&mut st, bad);
    };
    let driver = match image_of(&st, routine as usize) {
        Ok(driver) => driver,
        Err(drivers) => {
            let bad = [export, item.addr(), routine as usize, drivers];
            return inner.raise_locked(&mut st, BugCheck::new(HOST_ROUTINE_IMAGE_UNKNOWN, bad));
        }
    };
    let entry = Entry::new(routine as usize, routine as usize, 0, driver);
    // SAFETY: `ExQueueWorkItem`'s `WorkItem` stays valid until its routine
    // runs, so for reads and writes until it is dequeued.
    let id = unsafe { dispatch::enqueue_locked(inner, &mut st, item, entry, index) };
    drop(st);
    dispatch::eager_wait(inner, id);
}

/// `IoAllocateWorkItem`: Windows takes a device or a driver object and
/// validates neither; the host must know the object to count references.
pub(crate) fn io_allocate(
    inner: &Inner,
    object: ffi::PDEVICE_OBJECT,
    export: usize,
) -> PIO_WORKITEM {
    let null = core::ptr::null_mut();
    let mut st = inner.lock();
    if st.bug_check.is_some() || irql_too_high(inner, &mut st, object.addr(), export) {
        return null;
    }
    let Some(driver) = st.objects.get(&object.addr()).map(|rec| rec.driver) else {
        let bad = BugCheck::new(HOST_UNKNOWN_OBJECT, [export, object.addr(), 0, 0]);
        inner.raise_locked(&mut st, bad);
        return null;
    };
    if st.faults.should_fail(FaultSite::IoAllocateWorkItem) {
        return null;
    }
    let io = Box::into_raw(Box::new(HostIoWorkItem::unqueued(object.cast())));
    let rec = IoRec {
        io_object: object.addr(),
        driver,
        allocated: true,
    };
    st.io_items.insert(io.addr(), rec);
    io.cast()
}

/// `IoFreeWorkItem`.
pub(crate) fn io_free(inner: &Inner, item: PIO_WORKITEM, export: usize) {
    let mut st = inner.lock();
    if st.bug_check.is_some()
        || null_item(inner, &mut st, item.cast(), export)
        || irql_too_high(inner, &mut st, item.addr(), export)
    {
        return;
    }
    let Some(allocated) = st.io_items.get(&item.addr()).map(|rec| rec.allocated) else {
        let bad = BugCheck::new(HOST_UNKNOWN_IO_WORKITEM, [export, item.addr(), 0, 0]);
        return inner.raise_locked(&mut st, bad);
    };
    if !allocated {
        // IoInitializeWorkItem memory is the caller's: Verifier's "free of
        // an address no allocation returned".
        let bad = BugCheck::new(
            DRIVER_VERIFIER_DETECTED_VIOLATION,
            [0x10, item.addr(), 0, 0],
        );
        return inner.raise_locked(&mut st, bad);
    }
    if st.queues.queued.contains(&item.addr()) {
        return inner.raise_locked(&mut st, freed_while_queued(item.addr()));
    }
    if guard_broken(inner, &mut st, item) {
        return;
    }
    st.io_items.remove(&item.addr());
    drop(st);
    // SAFETY: tracked as allocated by `io_allocate` with `Box`, not queued,
    // and removed from the table, so freed exactly once.
    drop(unsafe { Box::from_raw(item.cast::<HostIoWorkItem>()) });
}

/// `IoInitializeWorkItem`: an object that is neither a device nor a driver
/// object is 0xE4/3.
pub(crate) fn io_initialize(
    inner: &Inner,
    io_object: *mut c_void,
    item: PIO_WORKITEM,
    export: usize,
) {
    let mut st = inner.lock();
    if st.bug_check.is_some() || null_item(inner, &mut st, item.cast(), export) {
        return;
    }
    let Some(driver) = st.objects.get(&io_object.addr()).map(|rec| rec.driver) else {
        let bad = BugCheck::new(WORKER_INVALID, [3, item.addr(), io_object.addr(), 0]);
        return inner.raise_locked(&mut st, bad);
    };
    if st.queues.queued.contains(&item.addr()) {
        let bad = BugCheck::new(
            HOST_REINITIALIZED_QUEUED_ITEM,
            [item.addr(), io_object.addr(), 0, 0],
        );
        return inner.raise_locked(&mut st, bad);
    }
    // Pool memory must hold IoSizeofWorkItem() bytes from `item` on.
    if let Some((start, size)) = crate::pool::block_containing(item.addr())
        && item.addr() + IO_WORKITEM_SIZE > start + size
    {
        let bad = BugCheck::new(
            HOST_IO_WORKITEM_OVERRUN,
            [item.addr(), start, size, IO_WORKITEM_SIZE],
        );
        return inner.raise_locked(&mut st, bad);
    }
    if !item.addr().is_multiple_of(align_of::<HostIoWorkItem>()) {
        let bad = BugCheck::new(HOST_UNKNOWN_IO_WORKITEM, [export, item.addr(), 0, 0]);
        return inner.raise_locked(&mut st, bad);
    }
    let io = item.cast::<HostIoWorkItem>();
    // SAFETY: the caller provides IoSizeofWorkItem() writable bytes at `item`
    // (checked above for pool memory); the alignment was checked.
    unsafe { io.write(HostIoWorkItem::unqueued(io_object)) };
    let rec = IoRec {
        io_object: io_object.addr(),
        driver,
        allocated: false,
    };
    st.io_items.insert(item.addr(), rec);
}

/// `IoUninitializeWorkItem`.
pub(crate) fn io_uninitialize(inner: &Inner, item: PIO_WORKITEM, export: usize) {
    let mut st = inner.lock();
    if st.bug_check.is_some() || null_item(inner, &mut st, item.cast(), export) {
        return;
    }
    if st.queues.queued.contains(&item.addr()) {
        return inner.raise_locked(&mut st, freed_while_queued(item.addr()));
    }
    match st.io_items.get(&item.addr()).map(|rec| rec.allocated) {
        Some(false) => {
            if !guard_broken(inner, &mut st, item) {
                st.io_items.remove(&item.addr());
            }
        }
        Some(true) | None => {
            let bad = BugCheck::new(HOST_UNKNOWN_IO_WORKITEM, [export, item.addr(), 0, 0]);
            inner.raise_locked(&mut st, bad);
        }
    }
}

/// How an Io item is queued: `IoQueueWorkItem`, `IoQueueWorkItemEx` or
/// `IoTryQueueWorkItem` (`try_queue`).
pub(crate) struct IoQueueCall {
    pub(crate) routine: IoRoutine,
    pub(crate) queue_type: WORK_QUEUE_TYPE,
    pub(crate) context: *mut c_void,
    pub(crate) try_queue: bool,
    pub(crate) export: usize,
}

/// `IoQueueWorkItem`, `IoQueueWorkItemEx` and `IoTryQueueWorkItem`: whether
/// the item was queued. Checks as `ExQueueWorkItem` does on the inner item;
/// `IoTryQueueWorkItem` then queues only if a worker can start the item now.
pub(crate) fn io_queue(inner: &Arc<Inner>, item: PIO_WORKITEM, call: IoQueueCall) -> bool {
    let IoQueueCall {
        routine,
        queue_type,
        context,
        try_queue,
        export,
    } = call;
    let mut st = inner.lock();
    if st.bug_check.is_some()
        || null_item(inner, &mut st, item.cast(), export)
        || (try_queue && not_in_target(inner, &mut st, WindowsVersion::Windows8, export))
        || irql_too_high(inner, &mut st, item.addr(), export)
    {
        return false;
    }
    let Some((io_object, driver)) = st
        .io_items
        .get(&item.addr())
        .map(|rec| (rec.io_object, rec.driver))
    else {
        // Freed, uninitialized or never made: reading it would be unsound.
        let bad = BugCheck::new(HOST_UNKNOWN_IO_WORKITEM, [export, item.addr(), 0, 0]);
        inner.raise_locked(&mut st, bad);
        return false;
    };
    let io = item.cast::<HostIoWorkItem>();
    // SAFETY: a tracked IO_WORKITEM is live (freeing removes it from the table).
    let flink = unsafe { (*io).item.List.Flink };
    if !flink.is_null() {
        inner.raise_locked(&mut st, queue_invalid(1, item.addr(), queue_type));
        return false;
    }
    if negative_queue_type(inner, &mut st, item.addr(), queue_type) {
        return false;
    }
    let Some(index) = queue_index_on(st.target, queue_type) else {
        inner.raise_locked(&mut st, queue_invalid(6, item.addr(), queue_type));
        return false;
    };
    let Some(routine_address) = routine.address() else {
        let bad = BugCheck::new(WORKER_INVALID, [7, item.addr(), 0, 0]);
        inner.raise_locked(&mut st, bad);
        return false;
    };
    if guard_broken(inner, &mut st, item) {
        return false;
    }
    if try_queue
        && (st.faults.should_fail(FaultSite::TryQueue)
            || !dispatch::worker_free_now(inner, &mut st))
    {
        return false;
    }
    // SAFETY: a tracked IO_WORKITEM is live (freeing removes it from the
    // table) and not queued (Flink checked), so only this call writes it; the
    // borrow ends before the item is queued.
    let host_item = unsafe { &mut *io };
    host_item.set_routine(routine, context);
    host_item.item.WorkerRoutine = Some(io_trampoline);
    host_item.item.Parameter = io.cast();
    objects::reference_locked(inner, &mut st, io_object, export);
    let trampoline = io_trampoline as *const () as usize;
    let entry = Entry::new(trampoline, routine_address, io_object, Some(driver));
    // SAFETY: `io` is a live, tracked IO_WORKITEM; `&raw mut` names its
    // inner item without a reference.
    let inner_item = unsafe { &raw mut (*io).item };
    // SAFETY: a tracked IO_WORKITEM cannot be freed while queued (0xE4/2), so
    // `inner_item` stays valid for reads and writes until it is dequeued.
    let id = unsafe { dispatch::enqueue_locked(inner, &mut st, inner_item, entry, index) };
    drop(st);
    dispatch::eager_wait(inner, id);
    true
}

/// Keeps the opaque type in the signatures honest.
const _: () = assert!(size_of::<IO_WORKITEM>() == 0);
