//! The raw protocol: `ROUTINE` and `initialize` for callers who manage
//! `WORK_QUEUE_ITEM` / `PIO_WORKITEM` memory themselves.

use ntwork::irql::Dispatch;
use ntwork::{DeviceObject, IoWorkItem, ffi, raw, work_item};

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

#[work_item(device)]
fn classic(device: &DeviceObject, n: u32) {
    let _ = (device, n);
}

#[work_item(device)]
fn extended(device: &DeviceObject, n: u32, item: IoWorkItem<extended>) {
    let _ = (device, n, item);
}

const EX: ffi::PWORKER_THREAD_ROUTINE = Some(flush::ROUTINE);
const IO: ffi::PIO_WORKITEM_ROUTINE = Some(classic::ROUTINE);
const IO_EX: ffi::PIO_WORKITEM_ROUTINE_EX = Some(raw::io_routine_ex::<classic>());

/// # Safety
///
/// `item` is writable, nonpaged, unqueued, and outlives its routine.
unsafe fn queue_raw(item: *mut ffi::WORK_QUEUE_ITEM) -> Result<(), ntwork::AllocError<Vec<u8>>> {
    // SAFETY: forwarded from the caller.
    unsafe {
        flush::initialize(item, vec![1, 2, 3])?;
        ffi::ExQueueWorkItem(item, ffi::DelayedWorkQueue);
    }
    Ok(())
}

/// # Safety
///
/// `item` came from `IoAllocateWorkItem`; the caller frees it after the routine ran.
unsafe fn queue_classic(item: ffi::PIO_WORKITEM) -> Result<(), ntwork::AllocError<u32>> {
    let parameter = raw::into_parameter(7u32)?;
    // SAFETY: forwarded from the caller; the routine takes the parameter back.
    unsafe { ffi::IoQueueWorkItem(item, IO, ffi::DelayedWorkQueue, parameter) };
    Ok(())
}

fn main() {
    let _: fn(&DeviceObject, u32, ntwork::WorkQueue, &Dispatch<'static>) -> Result<(), ntwork::AllocError<u32>> =
        extended::queue;
    let _ = (EX, IO_EX, queue_raw as unsafe fn(_) -> _, queue_classic as unsafe fn(_) -> _);
}
