//! `ExQueueWorkItem` and the `IO_WORKITEM` functions.

#![allow(non_snake_case)]

use core::ffi::c_void;

use ntwork_sys::{
    BOOLEAN, PDEVICE_OBJECT, PIO_WORKITEM, PIO_WORKITEM_ROUTINE, PIO_WORKITEM_ROUTINE_EX, ULONG,
    WORK_QUEUE_ITEM, WORK_QUEUE_TYPE,
};

use super::guarded;
use crate::binding::current;
use crate::io_item::IO_WORKITEM_SIZE;
use crate::work::{self, IoQueueCall, IoRoutine};

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
    io_queue_export(
        IoWorkItem,
        IoRoutine::Plain(WorkerRoutine),
        QueueType,
        Context,
        false,
        export,
    );
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
    io_queue_export(
        IoWorkItem,
        IoRoutine::Ex(WorkerRoutine),
        QueueType,
        Context,
        false,
        export,
    );
}

/// `IoTryQueueWorkItem`: `FALSE` (nothing queued, no reference kept) under
/// `FaultSite::TryQueue`, on a bug-checked executive, or on a violation.
///
/// # Safety
///
/// `WorkerRoutine` may be called with the item's object, `Context` and the item.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "system" fn IoTryQueueWorkItem(
    IoWorkItem: PIO_WORKITEM,
    WorkerRoutine: PIO_WORKITEM_ROUTINE_EX,
    QueueType: WORK_QUEUE_TYPE,
    Context: *mut c_void,
) -> BOOLEAN {
    let export = IoTryQueueWorkItem as *const () as usize;
    let queued = io_queue_export(
        IoWorkItem,
        IoRoutine::Ex(WorkerRoutine),
        QueueType,
        Context,
        true,
        export,
    );
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

/// The three Io queue exports: one call into the executive, guarded.
fn io_queue_export(
    item: PIO_WORKITEM,
    routine: IoRoutine,
    queue_type: WORK_QUEUE_TYPE,
    context: *mut c_void,
    try_queue: bool,
    export: usize,
) -> bool {
    guarded(false, || {
        let call = IoQueueCall {
            routine,
            queue_type,
            context,
            try_queue,
            export,
        };
        work::io_queue(&current(), item, call)
    })
}
