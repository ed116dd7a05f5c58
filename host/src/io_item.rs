//! The host's `IO_WORKITEM`: its layout and the Ex routine every Io item
//! runs through (the stand-in for the kernel's `IopProcessWorkItem`).

use core::ffi::c_void;

use ntwork_sys::{PIO_WORKITEM_ROUTINE, PIO_WORKITEM_ROUTINE_EX, WORK_QUEUE_ITEM};

use crate::binding::current;
use crate::objects;
use crate::state::ObjectKind;

/// The host's `IO_WORKITEM`, shaped like ReactOS's: the Ex item the worker
/// runs (its routine is [`io_trampoline`], its parameter the `IO_WORKITEM`),
/// then the object, the driver's routine and its context, padded to Windows
/// 10's size (0x58 on 64-bit targets) with a guard pattern in the tail.
#[repr(C)]
pub(crate) struct HostIoWorkItem {
    pub(crate) item: WORK_QUEUE_ITEM,
    pub(crate) io_object: *mut c_void,
    pub(crate) routine: PIO_WORKITEM_ROUTINE,
    pub(crate) routine_ex: PIO_WORKITEM_ROUTINE_EX,
    pub(crate) context: *mut c_void,
    /// Checked when the item is queued and freed: a driver that uses fewer
    /// bytes than `IoSizeofWorkItem()` (or overruns into them) disturbs it.
    pub(crate) guard: [usize; GUARD_WORDS],
}

/// Windows 10's `IoSizeofWorkItem()` on x64 is 0x58: 11 pointers.
const GUARD_WORDS: usize = 11 - 8;
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
            io_object,
            routine: None,
            routine_ex: None,
            context: core::ptr::null_mut(),
            guard: [GUARD; GUARD_WORDS],
        }
    }

    /// Whether the tail guard is intact.
    pub(crate) fn guard_intact(&self) -> bool {
        self.guard == [GUARD; GUARD_WORDS]
    }
}

/// The offset of the item's Routine field (parameter 3 of 0xE4/2).
pub(crate) const ROUTINE_FIELD: usize = core::mem::offset_of!(HostIoWorkItem, routine);

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
