//! The kernel semantics of the work-item functions, on an executive.
//!
//! Each function validates as the kernel does (IRQL, queue type, already
//! queued, object), raises the kernel's bug check on a violation and then
//! returns without doing the operation.

use core::ffi::c_void;
use std::boxed::Box;
use std::sync::Arc;

use ntwork::ffi::{
    self, DISPATCH_LEVEL, IO_WORKITEM, PIO_WORKITEM, PIO_WORKITEM_ROUTINE, PIO_WORKITEM_ROUTINE_EX,
    WORK_QUEUE_ITEM, WORK_QUEUE_TYPE,
};

use crate::bugcheck::{
    BugCheck, DRIVER_VERIFIER_DETECTED_VIOLATION, IRQL_NOT_LESS_OR_EQUAL, WORKER_INVALID,
};
use crate::executive::{Inner, IoRec, ObjectKind, State, current, queue_index};
use crate::faults::FaultSite;
use crate::irql::current_irql;

/// The host's `IO_WORKITEM`, shaped like ReactOS's: the Ex item the worker
/// runs (its routine is [`io_trampoline`], its parameter the `IO_WORKITEM`),
/// then the object, the driver's routine and its context.
#[repr(C)]
pub(crate) struct HostIoWorkItem {
    item: WORK_QUEUE_ITEM,
    io_object: *mut c_void,
    routine: PIO_WORKITEM_ROUTINE,
    routine_ex: PIO_WORKITEM_ROUTINE_EX,
    context: *mut c_void,
}

/// `IoSizeofWorkItem`.
pub(crate) const IO_WORKITEM_SIZE: usize = size_of::<HostIoWorkItem>();

impl HostIoWorkItem {
    /// Bound to `io_object`, not queued; `io_queue` fills in the inner item's
    /// routine and parameter each time it queues.
    fn unqueued(io_object: *mut c_void) -> Self {
        Self {
            item: WORK_QUEUE_ITEM::new(),
            io_object,
            routine: None,
            routine_ex: None,
            context: core::ptr::null_mut(),
        }
    }
}

/// The Ex routine of every `IO_WORKITEM`, like ReactOS's `IopWorkItemCallback`:
/// copies what it needs, calls the driver's routine, then drops the object
/// reference `IoQueueWorkItem` took. It never touches the `IO_WORKITEM` after
/// the routine returns, so the routine may free or requeue it.
///
/// # Safety
///
/// `parameter` is a queued `HostIoWorkItem` that a worker has just dequeued.
unsafe extern "system" fn io_trampoline(parameter: *mut c_void) {
    let io = parameter.cast::<HostIoWorkItem>();
    // SAFETY: see the function's contract; the item is valid until the
    // routine runs (it may free it), so everything is read first.
    let (io_object, routine, routine_ex, context) = unsafe {
        (
            (*io).io_object,
            (*io).routine,
            (*io).routine_ex,
            (*io).context,
        )
    };
    if let Some(routine_ex) = routine_ex {
        // SAFETY: the driver queued this routine with this context and item.
        unsafe { routine_ex(io_object, context, io.cast()) };
    } else if let Some(routine) = routine {
        // A plain routine of a driver-object item gets NULL as its device.
        let device = if is_driver_object(io_object) {
            core::ptr::null_mut()
        } else {
            io_object.cast()
        };
        // SAFETY: as above, for an IO_WORKITEM_ROUTINE.
        unsafe { routine(device, context) };
    }
    let _ = std::panic::catch_unwind(|| current().dereference(io_object as usize));
}

/// Whether `object` is a DRIVER_OBJECT of the calling thread's executive.
fn is_driver_object(object: *mut c_void) -> bool {
    std::panic::catch_unwind(|| {
        current()
            .lock()
            .objects
            .get(&(object as usize))
            .is_some_and(|rec| rec.kind == ObjectKind::Driver)
    })
    .unwrap_or(false)
}

/// Which routine an Io queue call stores.
#[derive(Clone, Copy)]
pub(crate) enum IoRoutine {
    Plain(PIO_WORKITEM_ROUTINE),
    Ex(PIO_WORKITEM_ROUTINE_EX),
}

impl IoRoutine {
    fn address(self) -> Option<usize> {
        match self {
            IoRoutine::Plain(r) => r.map(|r| r as usize),
            IoRoutine::Ex(r) => r.map(|r| r as usize),
        }
    }
}

/// The routine of the queued entry for `item`, or 0.
fn queued_routine(st: &State, item: usize) -> usize {
    st.entries()
        .find(|e| e.item == item)
        .map_or(0, |e| e.routine)
}

/// `WORKER_INVALID` for a queue call: (subcode, item, queue type, 0).
fn queue_invalid(subcode: usize, item: usize, queue_type: WORK_QUEUE_TYPE) -> BugCheck {
    BugCheck::new(WORKER_INVALID, [subcode, item, queue_type as usize, 0])
}

/// Raises 0xA if the caller is above DISPATCH_LEVEL.
fn irql_too_high(
    inner: &Inner,
    st: &mut State,
    address: usize,
    write: bool,
    export: usize,
) -> bool {
    let irql = current_irql();
    if irql <= DISPATCH_LEVEL {
        return false;
    }
    inner.raise_locked(
        st,
        BugCheck::new(
            IRQL_NOT_LESS_OR_EQUAL,
            [address, irql.into(), usize::from(write), export],
        ),
    );
    true
}

impl Inner {
    /// `ExQueueWorkItem`.
    pub(crate) fn ex_queue(
        self: &Arc<Self>,
        item: *mut WORK_QUEUE_ITEM,
        queue_type: WORK_QUEUE_TYPE,
        export: usize,
    ) {
        if item.is_null() {
            return;
        }
        let mut st = self.lock();
        if st.bug_check.is_some() || irql_too_high(self, &mut st, item as usize, true, export) {
            return;
        }
        let invalid = |subcode| queue_invalid(subcode, item as usize, queue_type);
        let Some(index) = queue_index(queue_type) else {
            return self.raise_locked(&mut st, invalid(6));
        };
        // SAFETY: the caller guarantees `item` is a valid WORK_QUEUE_ITEM.
        let (flink, routine) = unsafe { ((*item).List.Flink, (*item).WorkerRoutine) };
        if !flink.is_null() {
            return self.raise_locked(&mut st, invalid(1));
        }
        let Some(routine) = routine else {
            return self.raise_locked(&mut st, invalid(7));
        };
        // SAFETY: valid until dequeued, by the caller's contract.
        unsafe { self.enqueue_locked(&mut st, item, index, routine as usize, 0) };
    }

    /// `IoAllocateWorkItem`.
    pub(crate) fn io_allocate(&self, device: ffi::PDEVICE_OBJECT, export: usize) -> PIO_WORKITEM {
        let null = core::ptr::null_mut();
        let mut st = self.lock();
        if st.bug_check.is_some() || irql_too_high(self, &mut st, device as usize, false, export) {
            return null;
        }
        // Windows accepts a device or a driver object and checks neither; the
        // host must know the object to count its references.
        if !st.objects.contains_key(&(device as usize)) {
            self.raise_locked(
                &mut st,
                BugCheck::new(WORKER_INVALID, [3, 0, device as usize, 0]),
            );
            return null;
        }
        if st.faults.should_fail(FaultSite::IoAllocateWorkItem) {
            return null;
        }
        let io = Box::into_raw(Box::new(HostIoWorkItem::unqueued(device.cast())));
        st.io_items.insert(
            io as usize,
            IoRec {
                io_object: device as usize,
                allocated: true,
            },
        );
        io.cast()
    }

    /// `IoFreeWorkItem`.
    pub(crate) fn io_free(&self, item: PIO_WORKITEM, export: usize) {
        if item.is_null() {
            return;
        }
        let mut st = self.lock();
        if st.bug_check.is_some() || irql_too_high(self, &mut st, item as usize, true, export) {
            return;
        }
        if !st
            .io_items
            .get(&(item as usize))
            .is_some_and(|rec| rec.allocated)
        {
            // Not from IoAllocateWorkItem (or freed already).
            let bad = BugCheck::new(
                DRIVER_VERIFIER_DETECTED_VIOLATION,
                [0x10, item as usize, 0, 0],
            );
            return self.raise_locked(&mut st, bad);
        }
        if st.queued.contains(&(item as usize)) {
            let routine = queued_routine(&st, item as usize);
            let bad = BugCheck::new(WORKER_INVALID, [2, item as usize, routine, 0]);
            return self.raise_locked(&mut st, bad);
        }
        st.io_items.remove(&(item as usize));
        drop(st);
        // SAFETY: tracked as allocated by `io_allocate` with `Box`, not queued,
        // and removed from the table, so freed exactly once.
        drop(unsafe { Box::from_raw(item.cast::<HostIoWorkItem>()) });
    }

    /// `IoInitializeWorkItem`.
    pub(crate) fn io_initialize(&self, io_object: *mut c_void, item: PIO_WORKITEM) {
        if item.is_null() {
            return;
        }
        let mut st = self.lock();
        if st.bug_check.is_some() {
            return;
        }
        if !st.objects.contains_key(&(io_object as usize)) {
            let bad = BugCheck::new(WORKER_INVALID, [3, item as usize, io_object as usize, 0]);
            return self.raise_locked(&mut st, bad);
        }
        if st.queued.contains(&(item as usize))
            || !(item as usize).is_multiple_of(align_of::<HostIoWorkItem>())
        {
            // Re-initializing a queued item, or misaligned memory: ignored.
            return;
        }
        let io = item.cast::<HostIoWorkItem>();
        // SAFETY: the caller provides IoSizeofWorkItem() writable bytes at
        // `item`; the alignment was checked above.
        unsafe { io.write(HostIoWorkItem::unqueued(io_object)) };
        st.io_items.insert(
            item as usize,
            IoRec {
                io_object: io_object as usize,
                allocated: false,
            },
        );
    }

    /// `IoUninitializeWorkItem`.
    pub(crate) fn io_uninitialize(&self, item: PIO_WORKITEM) {
        let mut st = self.lock();
        if st.bug_check.is_some() {
            return;
        }
        if st.queued.contains(&(item as usize)) {
            let routine = queued_routine(&st, item as usize);
            let bad = BugCheck::new(WORKER_INVALID, [2, item as usize, routine, 0]);
            return self.raise_locked(&mut st, bad);
        }
        if st
            .io_items
            .get(&(item as usize))
            .is_some_and(|rec| !rec.allocated)
        {
            st.io_items.remove(&(item as usize));
        }
    }

    /// `IoQueueWorkItem`, `IoQueueWorkItemEx` and (`try_queue`) `IoTryQueueWorkItem`:
    /// whether the item was queued.
    pub(crate) fn io_queue(
        self: &Arc<Self>,
        item: PIO_WORKITEM,
        routine: IoRoutine,
        queue_type: WORK_QUEUE_TYPE,
        context: *mut c_void,
        try_queue: bool,
        export: usize,
    ) -> bool {
        if item.is_null() {
            return false;
        }
        let mut st = self.lock();
        if st.bug_check.is_some() || irql_too_high(self, &mut st, item as usize, true, export) {
            return false;
        }
        let Some(io_object) = st.io_items.get(&(item as usize)).map(|rec| rec.io_object) else {
            // Not an IO_WORKITEM of this executive: reading it would be unsound.
            return false;
        };
        let invalid = |subcode| queue_invalid(subcode, item as usize, queue_type);
        let Some(index) = queue_index(queue_type) else {
            self.raise_locked(&mut st, invalid(6));
            return false;
        };
        let io = item.cast::<HostIoWorkItem>();
        // SAFETY: a tracked IO_WORKITEM is live (freeing removes it from the table).
        let flink = unsafe { (*io).item.List.Flink };
        if !flink.is_null() {
            self.raise_locked(&mut st, invalid(1));
            return false;
        }
        let Some(routine_address) = routine.address() else {
            self.raise_locked(&mut st, invalid(7));
            return false;
        };
        if try_queue && st.faults.should_fail(FaultSite::TryQueue) {
            return false;
        }
        let (plain, ex) = match routine {
            IoRoutine::Plain(r) => (r, None),
            IoRoutine::Ex(r) => (None, r),
        };
        // SAFETY: live and not queued, so only this call writes it.
        unsafe {
            (*io).routine = plain;
            (*io).routine_ex = ex;
            (*io).context = context;
            (*io).item.WorkerRoutine = Some(io_trampoline);
            (*io).item.Parameter = io.cast();
        }
        if let Some(rec) = st.objects.get_mut(&io_object) {
            rec.refs += 1;
        }
        // SAFETY: a tracked IO_WORKITEM cannot be freed while queued (0xE4/2).
        unsafe {
            self.enqueue_locked(
                &mut st,
                &raw mut (*io).item,
                index,
                routine_address,
                io_object,
            )
        };
        true
    }
}

/// Keeps the opaque type in the signatures honest.
const _: () = assert!(size_of::<IO_WORKITEM>() == 0);
