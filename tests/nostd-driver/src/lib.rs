//! A driver-shaped `no_std` staticlib: the kernel provides the work-item,
//! pool and object exports; this crate provides only the panic handler a
//! driver would (as wdk-panic does). It has no global allocator: ntwork
//! allocates through `ExAllocatePool2` / `ExFreePoolWithTag`.

#![no_std]

use ntwork::irql::Passive;
use ntwork::{DeviceObject, IoWorkItem, Rundown, WorkQueue, work_item};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// Counts the driver's Ex work; `NtworkUnload` waits for it.
static WORK: Rundown = Rundown::new();

/// Sums a batch on a system worker thread.
#[work_item]
pub fn sum_batch(batch: [u32; 8]) {
    let total: u32 = batch.iter().sum();
    core::hint::black_box(total);
}

/// The same, its rundown named in its type: `queue` takes none.
#[work_item(rundown = WORK)]
pub fn sum_counted(batch: [u32; 8]) {
    let total: u32 = batch.iter().sum();
    core::hint::black_box(total);
}

/// Device-bound work that hands its item back and requeues it.
#[work_item(device)]
pub fn poll_device(
    device: &DeviceObject,
    remaining: u32,
    item: IoWorkItem<poll_device>,
    irql: &Passive<'_>,
) {
    core::hint::black_box(device.as_raw());
    if remaining > 0 {
        item.queue(remaining - 1, WorkQueue::Delayed, irql);
    }
}

const STATUS_SUCCESS: i32 = 0;
const STATUS_INSUFFICIENT_RESOURCES: i32 = 0xC000_009Au32 as i32;

/// What a dispatch routine would call.
///
/// # Safety
///
/// `device` is a device object this driver created and has not deleted; the
/// caller runs at PASSIVE_LEVEL (as an `IRP_MJ_DEVICE_CONTROL` dispatch
/// routine does).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NtworkQueueWork(device: *mut ntwork::ffi::DEVICE_OBJECT) -> i32 {
    // SAFETY: the caller passes a live device object of this driver.
    let device = unsafe { DeviceObject::from_raw(device) };
    // SAFETY: the caller runs at PASSIVE_LEVEL for this call (the contract).
    let irql = unsafe { Passive::assume() };
    let ex = sum_batch::queue(&WORK, [1; 8], WorkQueue::Delayed, &irql);
    let counted = sum_counted::queue([2; 8], WorkQueue::Delayed, &irql);
    let io = poll_device::queue(device, 3, WorkQueue::Delayed, &irql);
    if ex.is_ok() && counted.is_ok() && io.is_ok() {
        STATUS_SUCCESS
    } else {
        STATUS_INSUFFICIENT_RESOURCES
    }
}

/// What DriverUnload would call: waits for the Ex work.
///
/// # Safety
///
/// Called at PASSIVE_LEVEL, as the I/O manager calls DriverUnload.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NtworkUnload() {
    // SAFETY: DriverUnload runs at PASSIVE_LEVEL (the contract).
    let irql = unsafe { Passive::assume() };
    WORK.wait(&irql);
}
