//! A driver-shaped `no_std` staticlib: the kernel provides the work-item
//! exports and the pool; this crate provides the allocator and panic handler a
//! driver would (as wdk-alloc and wdk-panic do).

#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

use ntwork::{DeviceObject, IoWorkItem, WorkQueue, work_item};

const POOL_FLAG_NON_PAGED: u64 = 0x40;
const TAG: u32 = u32::from_le_bytes(*b"ntwk");

unsafe extern "system" {
    fn ExAllocatePool2(flags: u64, bytes: usize, tag: u32) -> *mut c_void;
    fn ExFreePoolWithTag(p: *mut c_void, tag: u32);
}

struct NonPagedPool;

// SAFETY: pool allocations are 16-byte aligned on 64-bit Windows; larger
// alignments are refused (NULL), which `GlobalAlloc` allows.
unsafe impl GlobalAlloc for NonPagedPool {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > 16 {
            return core::ptr::null_mut();
        }
        // SAFETY: a plain pool allocation.
        unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, layout.size(), TAG).cast() }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from `alloc`.
        unsafe { ExFreePoolWithTag(ptr.cast(), TAG) }
    }
}

#[global_allocator]
static POOL: NonPagedPool = NonPagedPool;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// Sums a batch on a system worker thread.
#[work_item]
pub fn sum_batch(batch: Vec<u32>) {
    let total: u32 = batch.iter().sum();
    core::hint::black_box(total);
}

/// Device-bound work that hands its item back and requeues it.
#[work_item(device)]
pub fn poll_device(device: &DeviceObject, remaining: u32, item: IoWorkItem<poll_device>) {
    core::hint::black_box(device.as_raw());
    if remaining > 0 {
        item.queue(remaining - 1, WorkQueue::Delayed);
    }
}

const STATUS_SUCCESS: i32 = 0;
const STATUS_INSUFFICIENT_RESOURCES: i32 = 0xC000_009Au32 as i32;

/// What a dispatch routine would call.
///
/// # Safety
///
/// `device` is a live device object of this driver.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn NtworkQueueWork(device: *mut ntwork::ffi::DEVICE_OBJECT) -> i32 {
    // SAFETY: the caller passes a live device object.
    let device = unsafe { DeviceObject::from_raw(device) };
    let ex = sum_batch::queue(alloc::vec![1, 2, 3], WorkQueue::Delayed);
    let io = poll_device::queue(&device, 3, WorkQueue::Delayed);
    if ex.is_ok() && io.is_ok() {
        STATUS_SUCCESS
    } else {
        STATUS_INSUFFICIENT_RESOURCES
    }
}
