//! The host's `IO_WORKITEM`: its layout and the Ex routine every Io item
//! runs through (the stand-in for the kernel's `IopProcessWorkItem`).

use core::ffi::c_void;

use ntwork_sys::{PIO_WORKITEM_ROUTINE, PIO_WORKITEM_ROUTINE_EX, WORK_QUEUE_ITEM};

use crate::binding::current;
use crate::bugcheck::{APC_INDEX_MISMATCH, BugCheck};
use crate::objects;
use crate::state::ObjectKind;

/// The host's `IO_WORKITEM`, laid out as Windows 10/11's `_IO_WORKITEM`:
/// the Ex item the worker runs (its routine is [`io_trampoline`], its
/// parameter the `IO_WORKITEM`) at 0x00, `Routine` at 0x20, `IoObject` at
/// 0x28, `Context` at 0x30 (x64), then which kind of routine `Routine`
/// holds, padded to Windows 10's size (0x58 on 64-bit targets) with a guard
/// pattern in the tail.
#[repr(C)]
pub(crate) struct HostIoWorkItem {
    pub(crate) item: WORK_QUEUE_ITEM,
    /// An `IO_WORKITEM_ROUTINE_EX`, or an `IO_WORKITEM_ROUTINE` stored as
    /// one (see `plain`).
    routine: PIO_WORKITEM_ROUTINE_EX,
    pub(crate) io_object: *mut c_void,
    pub(crate) context: *mut c_void,
    /// Nonzero when `routine` is a plain `IO_WORKITEM_ROUTINE`.
    plain: usize,
    /// Checked when the item is queued and freed: a driver that uses fewer
    /// bytes than `IoSizeofWorkItem()` (or overruns into them) disturbs it.
    pub(crate) guard: [usize; GUARD_WORDS],
}

/// Windows 10's `IoSizeofWorkItem()` on x64 is 0x58: 11 pointers.
const GUARD_WORDS: usize = 11 - 8;

/// The routine an Io queue call stores.
#[derive(Clone, Copy)]
pub(crate) enum IoRoutine {
    Plain(PIO_WORKITEM_ROUTINE),
    Ex(PIO_WORKITEM_ROUTINE_EX),
}

impl IoRoutine {
    /// The routine's address, for the checks and the bug-check parameters.
    pub(crate) fn address(self) -> Option<usize> {
        match self {
            IoRoutine::Plain(r) => r.map(|r| r as usize),
            IoRoutine::Ex(r) => r.map(|r| r as usize),
        }
    }
}
const GUARD: usize = 0x4E57_4755_4152_4400_u64 as usize; // "NWGUARD\0"

/// `IoSizeofWorkItem`.
pub(crate) const IO_WORKITEM_SIZE: usize = size_of::<HostIoWorkItem>();
const _: () = assert!(IO_WORKITEM_SIZE == 11 * size_of::<usize>());

impl HostIoWorkItem {
    /// Bound to `io_object`, not queued; the queue call fills in the inner
    /// item's routine and parameter each time it queues.
    pub(crate) fn unqueued(io_object: *mut c_void) -> Self {
        Self {
            item: WORK_QUEUE_ITEM::new(),
            routine: None,
            io_object,
            context: core::ptr::null_mut(),
            plain: 0,
            guard: [GUARD; GUARD_WORDS],
        }
    }

    /// Stores the routine and context of a queue call.
    pub(crate) fn set_routine(&mut self, routine: IoRoutine, context: *mut c_void) {
        (self.routine, self.plain) = match routine {
            // SAFETY: only the pointer's type changes; `plain` records the
            // real type, and `io_trampoline` calls it with that type.
            IoRoutine::Plain(r) => (
                unsafe { core::mem::transmute::<PIO_WORKITEM_ROUTINE, PIO_WORKITEM_ROUTINE_EX>(r) },
                1,
            ),
            IoRoutine::Ex(r) => (r, 0),
        };
        self.context = context;
    }

    /// The stored routine, with its real type.
    fn routine(&self) -> IoRoutine {
        if self.plain == 0 {
            return IoRoutine::Ex(self.routine);
        }
        // SAFETY: stored from a plain routine by `set_routine` (`plain`).
        IoRoutine::Plain(unsafe {
            core::mem::transmute::<PIO_WORKITEM_ROUTINE_EX, PIO_WORKITEM_ROUTINE>(self.routine)
        })
    }

    /// Whether the tail guard is intact.
    pub(crate) fn guard_intact(&self) -> bool {
        self.guard == [GUARD; GUARD_WORDS]
    }
}

/// The offset of the item's Routine field (parameter 3 of 0xE4/2).
pub(crate) const ROUTINE_FIELD: usize = core::mem::offset_of!(HostIoWorkItem, routine);
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(ROUTINE_FIELD == 0x20);
    assert!(core::mem::offset_of!(HostIoWorkItem, io_object) == 0x28);
    assert!(core::mem::offset_of!(HostIoWorkItem, context) == 0x30);
};

/// The Ex routine of every `IO_WORKITEM`, like the kernel's
/// `IopProcessWorkItem`: copies what it needs, calls the driver's routine,
/// checks that it returned outside any critical region (else 0x01 with the
/// driver's routine and parameter 4 = 0), then drops the object reference
/// `IoQueueWorkItem` took. It never touches the `IO_WORKITEM` after the
/// routine returns, so the routine may free or requeue it.
///
/// # Safety
///
/// `parameter` is a queued `HostIoWorkItem` that a worker has just dequeued.
pub(crate) unsafe extern "system" fn io_trampoline(parameter: *mut c_void) {
    let io = parameter.cast::<HostIoWorkItem>();
    // The item is valid until the routine runs (it may free it), so
    // everything is read first.
    let (io_object, routine, context) = {
        // SAFETY: `parameter` is a `HostIoWorkItem` a worker just dequeued
        // (this fn's contract), so it is live and initialized, its routine
        // and context filled in by the queue call; the borrow ends here,
        // before the routine runs.
        let item = unsafe { &*io };
        (item.io_object, item.routine(), item.context)
    };
    match routine {
        IoRoutine::Ex(Some(routine_ex)) => {
            // SAFETY: the driver queued this routine with this context and item.
            unsafe { routine_ex(io_object, context, io.cast()) };
        }
        IoRoutine::Plain(Some(routine)) => {
            // A plain routine of a driver-object item gets NULL as its device.
            let device = if is_driver_object(io_object) {
                core::ptr::null_mut()
            } else {
                io_object.cast()
            };
            // SAFETY: the driver queued this `IO_WORKITEM_ROUTINE` with this
            // context, on this device (or on its driver object: NULL).
            unsafe { routine(device, context) };
        }
        _ => {}
    }
    let export = io_trampoline as *const () as usize;
    let routine = routine.address().unwrap_or(0);
    let _ = std::panic::catch_unwind(|| {
        let inner = current();
        let mut st = inner.lock();
        let combined = crate::irql::combined_apc_disable();
        if combined != 0 {
            let bad = BugCheck::new(APC_INDEX_MISMATCH, [routine, 0, combined, 0]);
            inner.raise_locked(&mut st, bad);
        }
        objects::dereference_locked(&inner, &mut st, io_object.addr(), export);
    });
}

/// Whether `object` is a DRIVER_OBJECT of the calling thread's executive.
fn is_driver_object(object: *mut c_void) -> bool {
    std::panic::catch_unwind(|| {
        objects::kind_of(&current().lock(), object.addr()) == Some(ObjectKind::Driver)
    })
    .unwrap_or(false)
}
