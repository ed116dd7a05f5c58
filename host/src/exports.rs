//! The kernel's work-item exports, defined with the names and C signatures of
//! `crate::ffi`, so the safe layer's FFI calls link here on the host.
//!
//! Each one routes to the executive bound to the calling thread and never
//! lets a panic escape (it would abort the test process).

#![allow(non_snake_case)]

use core::alloc::Layout;
use core::ffi::c_void;
use core::panic::AssertUnwindSafe;
use std::io::Write as _;

use ntwork_sys::{
    BOOLEAN, EX_RUNDOWN_REF, KPROCESSOR_MODE, LONG_PTR, NTSTATUS, PDEVICE_OBJECT, PIO_WORKITEM,
    PIO_WORKITEM_ROUTINE, PIO_WORKITEM_ROUTINE_EX, POOL_FLAG_NON_PAGED, POOL_FLAGS, SIZE_T,
    STATUS_SUCCESS, ULONG, WORK_QUEUE_ITEM, WORK_QUEUE_TYPE,
};

use crate::binding::current;
use crate::io_item::IO_WORKITEM_SIZE;
use crate::objects;
use crate::version::WindowsVersion;
use crate::work::{self, IoQueueCall, IoRoutine};

/// Runs an export's body; a panic in the host itself becomes `default`.
fn guarded<T>(default: T, body: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        let _ = writeln!(
            std::io::stderr(),
            "ntwork host executive: internal panic in an export"
        );
        default
    })
}

/// `ExQueueWorkItem`.
///
/// # Safety
///
/// `WorkItem` is NULL or a valid `WORK_QUEUE_ITEM` that stays valid until its
/// routine runs, and whose routine may be called with its parameter.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExQueueWorkItem(
    WorkItem: *mut WORK_QUEUE_ITEM,
    QueueType: WORK_QUEUE_TYPE,
) {
    let export = ExQueueWorkItem as *const () as usize;
    guarded((), || {
        work::ex_queue(&current(), WorkItem, QueueType, export)
    });
}

/// `IoAllocateWorkItem`.
///
/// # Safety
///
/// None beyond the kernel's: an unknown `DeviceObject` is bug check 0xE4/3.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoAllocateWorkItem(
    DeviceObject: PDEVICE_OBJECT,
) -> PIO_WORKITEM {
    let export = IoAllocateWorkItem as *const () as usize;
    guarded(core::ptr::null_mut(), || {
        work::io_allocate(&current(), DeviceObject, export)
    })
}

/// `IoFreeWorkItem`.
///
/// # Safety
///
/// None beyond the kernel's: an item that is not allocated is bug check
/// 0xC4/0x10, a queued one 0xE4/2.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoFreeWorkItem(IoWorkItem: PIO_WORKITEM) {
    let export = IoFreeWorkItem as *const () as usize;
    guarded((), || work::io_free(&current(), IoWorkItem, export));
}

/// `IoQueueWorkItem`.
///
/// # Safety
///
/// `WorkerRoutine` may be called with the item's object and `Context`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoQueueWorkItem(
    IoWorkItem: PIO_WORKITEM,
    WorkerRoutine: PIO_WORKITEM_ROUTINE,
    QueueType: WORK_QUEUE_TYPE,
    Context: *mut c_void,
) {
    let export = IoQueueWorkItem as *const () as usize;
    guarded(false, || {
        let call = IoQueueCall {
            routine: IoRoutine::Plain(WorkerRoutine),
            queue_type: QueueType,
            context: Context,
            try_queue: false,
            export,
        };
        work::io_queue(&current(), IoWorkItem, call)
    });
}

/// `IoQueueWorkItemEx`.
///
/// # Safety
///
/// `WorkerRoutine` may be called with the item's object, `Context` and the item.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoQueueWorkItemEx(
    IoWorkItem: PIO_WORKITEM,
    WorkerRoutine: PIO_WORKITEM_ROUTINE_EX,
    QueueType: WORK_QUEUE_TYPE,
    Context: *mut c_void,
) {
    let export = IoQueueWorkItemEx as *const () as usize;
    guarded(false, || {
        let call = IoQueueCall {
            routine: IoRoutine::Ex(WorkerRoutine),
            queue_type: QueueType,
            context: Context,
            try_queue: false,
            export,
        };
        work::io_queue(&current(), IoWorkItem, call)
    });
}

/// `IoTryQueueWorkItem`: `FALSE` (nothing queued, no reference kept) under
/// `FaultSite::TryQueue`, on a bug-checked executive, or on a violation.
///
/// # Safety
///
/// As for [`IoQueueWorkItemEx`].
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoTryQueueWorkItem(
    IoWorkItem: PIO_WORKITEM,
    WorkerRoutine: PIO_WORKITEM_ROUTINE_EX,
    QueueType: WORK_QUEUE_TYPE,
    Context: *mut c_void,
) -> BOOLEAN {
    let export = IoTryQueueWorkItem as *const () as usize;
    let queued = guarded(false, || {
        let call = IoQueueCall {
            routine: IoRoutine::Ex(WorkerRoutine),
            queue_type: QueueType,
            context: Context,
            try_queue: true,
            export,
        };
        work::io_queue(&current(), IoWorkItem, call)
    });
    BOOLEAN::from(queued)
}

/// `IoSizeofWorkItem`: the size of the host's `IO_WORKITEM`.
///
/// # Safety
///
/// None.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoSizeofWorkItem() -> ULONG {
    IO_WORKITEM_SIZE as ULONG
}

/// `IoInitializeWorkItem`.
///
/// # Safety
///
/// `IoWorkItem` is NULL or [`IoSizeofWorkItem`] writable bytes, 8-aligned.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoInitializeWorkItem(
    IoObject: *mut c_void,
    IoWorkItem: PIO_WORKITEM,
) {
    let export = IoInitializeWorkItem as *const () as usize;
    guarded((), || {
        work::io_initialize(&current(), IoObject, IoWorkItem, export)
    });
}

/// `IoUninitializeWorkItem`.
///
/// # Safety
///
/// None beyond the kernel's: a queued item is bug check 0xE4/2.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoUninitializeWorkItem(IoWorkItem: PIO_WORKITEM) {
    let export = IoUninitializeWorkItem as *const () as usize;
    guarded((), || work::io_uninitialize(&current(), IoWorkItem, export));
}

/// `ExAllocatePool2`: tracked nonpaged pool, zeroed, 16-byte aligned; `NULL`
/// for a zero size or flags without `POOL_FLAG_NON_PAGED` (the host models
/// nonpaged pool only).
///
/// # Safety
///
/// None.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExAllocatePool2(
    Flags: POOL_FLAGS,
    NumberOfBytes: SIZE_T,
    Tag: ULONG,
) -> *mut c_void {
    let export = ExAllocatePool2 as *const () as usize;
    guarded(core::ptr::null_mut(), || {
        let inner = current();
        // ExAllocatePool2 is exported from Windows 10 2004 on.
        if crate::checks::not_in_target(
            &inner,
            &mut inner.lock(),
            WindowsVersion::Windows10,
            export,
        ) {
            return core::ptr::null_mut();
        }
        if Flags & POOL_FLAG_NON_PAGED == 0 {
            return core::ptr::null_mut();
        }
        let Ok(layout) = Layout::from_size_align(NumberOfBytes.max(1), 16) else {
            return core::ptr::null_mut();
        };
        let _ = Tag;
        let block = if NumberOfBytes == 0 {
            crate::pool::allocate(Layout::new::<()>())
        } else {
            crate::pool::allocate(layout)
        };
        if !block.is_null() {
            // SAFETY: a fresh block of `layout.size()` bytes.
            unsafe { block.write_bytes(0, layout.size()) };
        }
        block.cast()
    })
}

/// `ExFreePoolWithTag`.
///
/// # Safety
///
/// `P` is not used after it is freed.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExFreePoolWithTag(P: *mut c_void, Tag: ULONG) {
    let _ = Tag;
    // SAFETY: forwarded; the pool ignores the layout of a tracked block.
    guarded((), || unsafe {
        crate::pool::free(P.cast(), Layout::new::<u8>())
    });
}

/// `ObfReferenceObject`.
///
/// # Safety
///
/// None beyond the kernel's.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ObfReferenceObject(Object: *mut c_void) -> LONG_PTR {
    let export = ObfReferenceObject as *const () as usize;
    guarded(0, || {
        let inner = current();
        let mut st = inner.lock();
        objects::reference_locked(&inner, &mut st, Object.addr(), export) as LONG_PTR
    })
}

/// `ObfDereferenceObject`.
///
/// # Safety
///
/// None beyond the kernel's.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ObfDereferenceObject(Object: *mut c_void) -> LONG_PTR {
    let export = ObfDereferenceObject as *const () as usize;
    guarded(0, || {
        let inner = current();
        let mut st = inner.lock();
        objects::dereference_locked(&inner, &mut st, Object.addr(), export) as LONG_PTR
    })
}

/// `ExInitializeRundownProtection`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExInitializeRundownProtection(RunRef: *mut EX_RUNDOWN_REF) {
    // SAFETY: forwarded.
    unsafe { crate::rundown::initialize(RunRef) }
}

/// `ExReInitializeRundownProtection`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExReInitializeRundownProtection(RunRef: *mut EX_RUNDOWN_REF) {
    // SAFETY: forwarded.
    unsafe { crate::rundown::initialize(RunRef) }
}

/// `ExAcquireRundownProtection`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExAcquireRundownProtection(
    RunRef: *mut EX_RUNDOWN_REF,
) -> BOOLEAN {
    // SAFETY: forwarded.
    BOOLEAN::from(unsafe { crate::rundown::acquire(RunRef) })
}

/// `ExReleaseRundownProtection`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF` the caller holds protection on.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExReleaseRundownProtection(RunRef: *mut EX_RUNDOWN_REF) {
    // SAFETY: forwarded.
    unsafe { crate::rundown::release(RunRef) }
}

/// `ExWaitForRundownProtectionRelease`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExWaitForRundownProtectionRelease(
    RunRef: *mut EX_RUNDOWN_REF,
) {
    let export = ExWaitForRundownProtectionRelease as *const () as usize;
    // SAFETY: forwarded.
    unsafe { crate::rundown::wait(RunRef, export) }
}

/// `ExRundownCompleted`.
///
/// # Safety
///
/// `RunRef` is a valid `EX_RUNDOWN_REF`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn ExRundownCompleted(RunRef: *mut EX_RUNDOWN_REF) {
    // SAFETY: forwarded.
    unsafe { crate::rundown::completed(RunRef) }
}

/// `KeEnterCriticalRegion`.
///
/// # Safety
///
/// None.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn KeEnterCriticalRegion() {
    crate::irql::enter_critical_region();
}

/// `KeLeaveCriticalRegion`.
///
/// # Safety
///
/// None.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn KeLeaveCriticalRegion() {
    crate::irql::leave_critical_region();
}

/// `KeDelayExecutionThread`: sleeps for a relative interval (negative, in
/// 100 ns units); an absolute time (positive) sleeps not at all.
///
/// # Safety
///
/// `Interval` is valid for reads.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn KeDelayExecutionThread(
    WaitMode: KPROCESSOR_MODE,
    Alertable: BOOLEAN,
    Interval: *mut i64,
) -> NTSTATUS {
    let _ = (WaitMode, Alertable);
    // SAFETY: the caller's contract.
    let interval = unsafe { Interval.read() };
    if interval < 0 {
        std::thread::sleep(std::time::Duration::from_nanos(
            interval.unsigned_abs() * 100,
        ));
    }
    STATUS_SUCCESS
}
