//! The kernel semantics of the work-item functions, on an executive.
//!
//! Each function validates as the kernel does, in the kernel's order, raises
//! the kernel's bug check (or, where Windows checks nothing, a labelled host
//! diagnostic) on a violation and then returns without doing the operation.

use core::ffi::c_void;
use std::boxed::Box;
use std::sync::Arc;

use ntwork_sys::{
    self as ffi, DISPATCH_LEVEL, IO_WORKITEM, PIO_WORKITEM, PIO_WORKITEM_ROUTINE,
    PIO_WORKITEM_ROUTINE_EX, WORK_QUEUE_ITEM, WORK_QUEUE_TYPE,
};

use crate::binding::current;
use crate::bugcheck::{
    BugCheck, DRIVER_VERIFIER_DETECTED_VIOLATION, HOST_IO_WORKITEM_OVERRUN,
    HOST_IRQL_ABOVE_DISPATCH, HOST_NEGATIVE_QUEUE_TYPE, HOST_NOT_IN_TARGET, HOST_NULL_WORK_ITEM,
    HOST_REINITIALIZED_QUEUED_ITEM, HOST_UNKNOWN_IO_WORKITEM, HOST_UNKNOWN_OBJECT, WORKER_INVALID,
};
use crate::executive::{Entry, Inner, IoRec, ObjectKind, State, WindowsVersion};
use crate::faults::FaultSite;
use crate::irql::current_irql;

/// The host's `IO_WORKITEM`, shaped like ReactOS's: the Ex item the worker
/// runs (its routine is [`io_trampoline`], its parameter the `IO_WORKITEM`),
/// then the object, the driver's routine and its context, padded to Windows
/// 10's size (0x58 on 64-bit targets) with a guard pattern in the tail.
#[repr(C)]
pub(crate) struct HostIoWorkItem {
    item: WORK_QUEUE_ITEM,
    io_object: *mut c_void,
    routine: PIO_WORKITEM_ROUTINE,
    routine_ex: PIO_WORKITEM_ROUTINE_EX,
    context: *mut c_void,
    /// Checked when the item is queued and freed: a driver that uses fewer
    /// bytes than `IoSizeofWorkItem()` (or overruns into them) disturbs it.
    guard: [usize; GUARD_WORDS],
}

/// Windows 10's `IoSizeofWorkItem()` on x64 is 0x58: 11 pointers.
const GUARD_WORDS: usize = 11 - 8;
const GUARD: usize = 0x4E57_4755_4152_4400_u64 as usize; // "NWGUARD\0"

/// `IoSizeofWorkItem`.
pub(crate) const IO_WORKITEM_SIZE: usize = size_of::<HostIoWorkItem>();
const _: () = assert!(IO_WORKITEM_SIZE == 11 * size_of::<usize>());

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
            guard: [GUARD; GUARD_WORDS],
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
pub(crate) unsafe extern "system" fn io_trampoline(parameter: *mut c_void) {
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
    let export = io_trampoline as *const () as usize;
    let _ = std::panic::catch_unwind(|| {
        let inner = current();
        let mut st = inner.lock();
        inner.dereference_locked(&mut st, io_object as usize, export);
    });
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

/// `WORKER_INVALID` for a queue call: (subcode, item, queue type, 0).
fn queue_invalid(subcode: usize, item: usize, queue_type: WORK_QUEUE_TYPE) -> BugCheck {
    BugCheck::new(WORKER_INVALID, [subcode, item, queue_type as usize, 0])
}

/// 0xE4/2 for freeing or uninitializing a queued Io item: P3 is the address
/// of the item's Routine field.
fn freed_while_queued(item: usize) -> BugCheck {
    let routine_field = item + core::mem::offset_of!(HostIoWorkItem, routine);
    BugCheck::new(WORKER_INVALID, [2, item, routine_field, 0])
}

/// A host diagnostic if the caller is above DISPATCH_LEVEL (the retail
/// kernel documents the limit but does not check it).
fn irql_too_high(inner: &Inner, st: &mut State, address: usize, export: usize) -> bool {
    let irql = current_irql();
    if irql <= DISPATCH_LEVEL {
        return false;
    }
    inner.raise_locked(
        st,
        BugCheck::new(HOST_IRQL_ABOVE_DISPATCH, [export, irql.into(), address, 0]),
    );
    true
}

/// A host diagnostic for a NULL item.
fn null_item(inner: &Inner, st: &mut State, item: *const c_void, export: usize) -> bool {
    if !item.is_null() {
        return false;
    }
    inner.raise_locked(st, BugCheck::new(HOST_NULL_WORK_ITEM, [export, 0, 0, 0]));
    true
}

/// A host diagnostic for a negative queue type (the kernel's signed compare
/// lets it through).
fn negative_queue_type(
    inner: &Inner,
    st: &mut State,
    item: usize,
    queue_type: WORK_QUEUE_TYPE,
) -> bool {
    if queue_type >= 0 {
        return false;
    }
    inner.raise_locked(
        st,
        BugCheck::new(HOST_NEGATIVE_QUEUE_TYPE, [item, queue_type as usize, 0, 0]),
    );
    true
}

/// A host diagnostic when the tail guard of a known Io item was overwritten.
fn guard_broken(inner: &Inner, st: &mut State, item: usize) -> bool {
    let io = item as *const HostIoWorkItem;
    // SAFETY: `item` is a tracked, live IO_WORKITEM of IO_WORKITEM_SIZE bytes.
    let guard = unsafe { (*io).guard };
    if guard == [GUARD; GUARD_WORDS] {
        return false;
    }
    let block = crate::pool::block_containing(item).unwrap_or((0, 0));
    inner.raise_locked(
        st,
        BugCheck::new(
            HOST_IO_WORKITEM_OVERRUN,
            [item, block.0, block.1, IO_WORKITEM_SIZE],
        ),
    );
    true
}

/// A host diagnostic when `export` does not exist on the executive's target.
pub(crate) fn not_in_target(
    inner: &Inner,
    st: &mut State,
    since: WindowsVersion,
    export: usize,
) -> bool {
    if st.target >= since {
        return false;
    }
    let target = st.target.number();
    inner.raise_locked(
        st,
        BugCheck::new(HOST_NOT_IN_TARGET, [export, target, 0, 0]),
    );
    true
}

impl Inner {
    /// `ExQueueWorkItem`, checking in the kernel's order: Flink (0xE4/1), the
    /// queue type (0xE4/6), the routine (0xE4/7).
    pub(crate) fn ex_queue(
        self: &Arc<Self>,
        item: *mut WORK_QUEUE_ITEM,
        queue_type: WORK_QUEUE_TYPE,
        export: usize,
    ) {
        let mut st = self.lock();
        if st.bug_check.is_some()
            || null_item(self, &mut st, item.cast(), export)
            || irql_too_high(self, &mut st, item as usize, export)
        {
            return;
        }
        // SAFETY: the caller guarantees `item` is a valid WORK_QUEUE_ITEM.
        let (flink, routine) = unsafe { ((*item).List.Flink, (*item).WorkerRoutine) };
        if !flink.is_null() {
            return self.raise_locked(&mut st, queue_invalid(1, item as usize, queue_type));
        }
        if negative_queue_type(self, &mut st, item as usize, queue_type) {
            return;
        }
        let Some(index) = self.queue_index(&st, queue_type) else {
            return self.raise_locked(&mut st, queue_invalid(6, item as usize, queue_type));
        };
        let Some(routine) = routine else {
            let bad = BugCheck::new(WORKER_INVALID, [7, item as usize, 0, 0]);
            return self.raise_locked(&mut st, bad);
        };
        let entry = Entry::new(
            routine as usize,
            routine as usize,
            0,
            st.calling_driver(self),
        );
        // SAFETY: valid until dequeued, by the caller's contract.
        unsafe { self.enqueue_locked(&mut st, item, entry, index) };
    }

    /// `IoAllocateWorkItem`: Windows takes a device or a driver object and
    /// validates neither; the host must know the object to count references.
    pub(crate) fn io_allocate(&self, object: ffi::PDEVICE_OBJECT, export: usize) -> PIO_WORKITEM {
        let null = core::ptr::null_mut();
        let mut st = self.lock();
        if st.bug_check.is_some() || irql_too_high(self, &mut st, object as usize, export) {
            return null;
        }
        let Some(driver) = st.objects.get(&(object as usize)).map(|rec| rec.driver) else {
            let bad = BugCheck::new(HOST_UNKNOWN_OBJECT, [export, object as usize, 0, 0]);
            self.raise_locked(&mut st, bad);
            return null;
        };
        if st.faults.should_fail(FaultSite::IoAllocateWorkItem) {
            return null;
        }
        let io = Box::into_raw(Box::new(HostIoWorkItem::unqueued(object.cast())));
        st.io_items.insert(
            io as usize,
            IoRec {
                io_object: object as usize,
                driver,
                allocated: true,
            },
        );
        io.cast()
    }

    /// `IoFreeWorkItem`.
    pub(crate) fn io_free(&self, item: PIO_WORKITEM, export: usize) {
        let mut st = self.lock();
        if st.bug_check.is_some()
            || null_item(self, &mut st, item.cast(), export)
            || irql_too_high(self, &mut st, item as usize, export)
        {
            return;
        }
        let Some(allocated) = st.io_items.get(&(item as usize)).map(|rec| rec.allocated) else {
            let bad = BugCheck::new(HOST_UNKNOWN_IO_WORKITEM, [export, item as usize, 0, 0]);
            return self.raise_locked(&mut st, bad);
        };
        if !allocated {
            // IoInitializeWorkItem memory is the caller's: Verifier's "free of
            // an address no allocation returned".
            let bad = BugCheck::new(
                DRIVER_VERIFIER_DETECTED_VIOLATION,
                [0x10, item as usize, 0, 0],
            );
            return self.raise_locked(&mut st, bad);
        }
        if st.queued.contains(&(item as usize)) {
            return self.raise_locked(&mut st, freed_while_queued(item as usize));
        }
        if guard_broken(self, &mut st, item as usize) {
            return;
        }
        st.io_items.remove(&(item as usize));
        drop(st);
        // SAFETY: tracked as allocated by `io_allocate` with `Box`, not queued,
        // and removed from the table, so freed exactly once.
        drop(unsafe { Box::from_raw(item.cast::<HostIoWorkItem>()) });
    }

    /// `IoInitializeWorkItem`: an object that is neither a device nor a
    /// driver object is 0xE4/3.
    pub(crate) fn io_initialize(&self, io_object: *mut c_void, item: PIO_WORKITEM, export: usize) {
        let mut st = self.lock();
        if st.bug_check.is_some() || null_item(self, &mut st, item.cast(), export) {
            return;
        }
        let Some(driver) = st.objects.get(&(io_object as usize)).map(|rec| rec.driver) else {
            let bad = BugCheck::new(WORKER_INVALID, [3, item as usize, io_object as usize, 0]);
            return self.raise_locked(&mut st, bad);
        };
        if st.queued.contains(&(item as usize)) {
            let bad = BugCheck::new(
                HOST_REINITIALIZED_QUEUED_ITEM,
                [item as usize, io_object as usize, 0, 0],
            );
            return self.raise_locked(&mut st, bad);
        }
        // Pool memory must hold IoSizeofWorkItem() bytes from `item` on.
        if let Some((start, size)) = crate::pool::block_containing(item as usize)
            && item as usize + IO_WORKITEM_SIZE > start + size
        {
            let bad = BugCheck::new(
                HOST_IO_WORKITEM_OVERRUN,
                [item as usize, start, size, IO_WORKITEM_SIZE],
            );
            return self.raise_locked(&mut st, bad);
        }
        if !(item as usize).is_multiple_of(align_of::<HostIoWorkItem>()) {
            let bad = BugCheck::new(HOST_UNKNOWN_IO_WORKITEM, [export, item as usize, 0, 0]);
            return self.raise_locked(&mut st, bad);
        }
        let io = item.cast::<HostIoWorkItem>();
        // SAFETY: the caller provides IoSizeofWorkItem() writable bytes at
        // `item` (checked above for pool memory); the alignment was checked.
        unsafe { io.write(HostIoWorkItem::unqueued(io_object)) };
        st.io_items.insert(
            item as usize,
            IoRec {
                io_object: io_object as usize,
                driver,
                allocated: false,
            },
        );
    }

    /// `IoUninitializeWorkItem`.
    pub(crate) fn io_uninitialize(&self, item: PIO_WORKITEM, export: usize) {
        let mut st = self.lock();
        if st.bug_check.is_some() || null_item(self, &mut st, item.cast(), export) {
            return;
        }
        if st.queued.contains(&(item as usize)) {
            return self.raise_locked(&mut st, freed_while_queued(item as usize));
        }
        match st.io_items.get(&(item as usize)).map(|rec| rec.allocated) {
            Some(false) => {
                if !guard_broken(self, &mut st, item as usize) {
                    st.io_items.remove(&(item as usize));
                }
            }
            Some(true) | None => {
                let bad = BugCheck::new(HOST_UNKNOWN_IO_WORKITEM, [export, item as usize, 0, 0]);
                self.raise_locked(&mut st, bad);
            }
        }
    }

    /// `IoQueueWorkItem`, `IoQueueWorkItemEx` and (`try_queue`)
    /// `IoTryQueueWorkItem`: whether the item was queued. Checks as
    /// `ExQueueWorkItem` does on the inner item; `IoTryQueueWorkItem` then
    /// queues only if an idle worker can start the item now.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn io_queue(
        self: &Arc<Self>,
        item: PIO_WORKITEM,
        routine: IoRoutine,
        queue_type: WORK_QUEUE_TYPE,
        context: *mut c_void,
        try_queue: bool,
        export: usize,
    ) -> bool {
        let mut st = self.lock();
        if st.bug_check.is_some()
            || null_item(self, &mut st, item.cast(), export)
            || (try_queue && not_in_target(self, &mut st, WindowsVersion::Windows8, export))
            || irql_too_high(self, &mut st, item as usize, export)
        {
            return false;
        }
        let Some((io_object, driver)) = st
            .io_items
            .get(&(item as usize))
            .map(|rec| (rec.io_object, rec.driver))
        else {
            // Freed, uninitialized or never made: reading it would be unsound.
            let bad = BugCheck::new(HOST_UNKNOWN_IO_WORKITEM, [export, item as usize, 0, 0]);
            self.raise_locked(&mut st, bad);
            return false;
        };
        let io = item.cast::<HostIoWorkItem>();
        // SAFETY: a tracked IO_WORKITEM is live (freeing removes it from the table).
        let flink = unsafe { (*io).item.List.Flink };
        if !flink.is_null() {
            self.raise_locked(&mut st, queue_invalid(1, item as usize, queue_type));
            return false;
        }
        if negative_queue_type(self, &mut st, item as usize, queue_type) {
            return false;
        }
        let Some(index) = self.queue_index(&st, queue_type) else {
            self.raise_locked(&mut st, queue_invalid(6, item as usize, queue_type));
            return false;
        };
        let Some(routine_address) = routine.address() else {
            let bad = BugCheck::new(WORKER_INVALID, [7, item as usize, 0, 0]);
            self.raise_locked(&mut st, bad);
            return false;
        };
        if guard_broken(self, &mut st, item as usize) {
            return false;
        }
        if try_queue
            && (st.faults.should_fail(FaultSite::TryQueue) || !self.idle_worker_free(&mut st))
        {
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
        self.reference_locked(&mut st, io_object, export);
        let entry = Entry::new(
            io_trampoline as *const () as usize,
            routine_address,
            io_object,
            Some(driver),
        );
        // SAFETY: a tracked IO_WORKITEM cannot be freed while queued (0xE4/2).
        unsafe { self.enqueue_locked(&mut st, &raw mut (*io).item, entry, index) };
        true
    }
}

/// Keeps the opaque type in the signatures honest.
const _: () = assert!(size_of::<IO_WORKITEM>() == 0);
