//! The smallest kernel that runs ntwork's driver-side code: the exports
//! `ntwork::ffi` declares, single-threaded, a FIFO of `WORK_QUEUE_ITEM`s, pool
//! from the system allocator, counts in plain integers. Both paths call the
//! same functions, so its cost cancels out of the ratio. Every export is
//! `#[inline(never)]`: in a driver they are imports from ntoskrnl, never
//! inlined into the caller, and the C side must not get that advantage here.

use core::ffi::c_void;
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::cell::RefCell;
use std::collections::VecDeque;

use ntwork::ffi::{
    self, BOOLEAN, EX_RUNDOWN_REF, KPROCESSOR_MODE, LONG_PTR, NTSTATUS, PDEVICE_OBJECT,
    PDRIVER_OBJECT, PIO_WORKITEM, PIO_WORKITEM_ROUTINE, PIO_WORKITEM_ROUTINE_EX, POOL_FLAGS,
    SIZE_T, ULONG, WORK_QUEUE_ITEM, WORK_QUEUE_TYPE,
};

thread_local! {
    static QUEUE: RefCell<VecDeque<*mut WORK_QUEUE_ITEM>> = RefCell::new(VecDeque::with_capacity(16));
}

/// A device object for the Io path: only its address matters here, but a
/// `&DeviceObject` covers the declared `DEVICE_OBJECT` (0x150 bytes on x64).
pub fn device() -> PDEVICE_OBJECT {
    static DEVICE: [u64; 42] = [0; 42];
    (&raw const DEVICE).cast_mut().cast()
}

/// The bench's driver object: a zeroed `DRIVER_OBJECT` (0x150 bytes on x64).
pub fn driver() -> PDRIVER_OBJECT {
    static mut DRIVER: [u64; 64] = [0; 64];
    (&raw mut DRIVER).cast()
}

thread_local! {
    /// The one driver-object extension (ntwork's), set up before timing.
    static EXTENSION: RefCell<*mut c_void> = const { RefCell::new(core::ptr::null_mut()) };
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn IoAllocateDriverObjectExtension(
    _: PDRIVER_OBJECT,
    _: *mut c_void,
    size: ULONG,
    extension: *mut *mut c_void,
) -> NTSTATUS {
    // SAFETY: a zeroed block of `size` bytes, kept for the process.
    let block = unsafe { alloc_zeroed(Layout::from_size_align(size as usize, 16).unwrap()) };
    EXTENSION.with(|slot| *slot.borrow_mut() = block.cast());
    // SAFETY: the caller's out pointer.
    unsafe { *extension = block.cast() };
    ffi::STATUS_SUCCESS
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn IoGetDriverObjectExtension(
    _: PDRIVER_OBJECT,
    _: *mut c_void,
) -> *mut c_void {
    EXTENSION.with(|slot| *slot.borrow())
}

/// Runs the oldest queued item, as a worker would.
pub fn run_one() {
    let item = QUEUE.with(|q| q.borrow_mut().pop_front());
    if let Some(item) = item {
        // SAFETY: queued items stay valid until run; the worker clears Flink
        // before calling, as the kernel does.
        unsafe {
            (*item).List.Flink = core::ptr::null_mut();
            if let Some(routine) = (*item).WorkerRoutine {
                routine((*item).Parameter);
            }
        }
    }
}

const POOL_ALIGN: usize = 16;

fn pool_layout(size: usize) -> Layout {
    // Pool blocks carry their size in a 16-byte header, as the kernel's do.
    Layout::from_size_align(size + POOL_ALIGN, POOL_ALIGN).unwrap()
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ExAllocatePool2(_: POOL_FLAGS, n: SIZE_T, _: ULONG) -> *mut c_void {
    let layout = pool_layout(n);
    // SAFETY: a non-zero layout; the header stores the size for the free.
    // Zeroed, as ExAllocatePool2 without POOL_FLAG_UNINITIALIZED returns it.
    unsafe {
        let base = alloc_zeroed(layout);
        if base.is_null() {
            return base.cast();
        }
        base.cast::<usize>().write(n);
        base.add(POOL_ALIGN).cast()
    }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ExFreePoolWithTag(p: *mut c_void, _: ULONG) {
    // SAFETY: `p` came from ExAllocatePool2 above.
    unsafe {
        let base = p.cast::<u8>().sub(POOL_ALIGN);
        let n = base.cast::<usize>().read();
        dealloc(base, pool_layout(n));
    }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ExQueueWorkItem(item: *mut WORK_QUEUE_ITEM, _: WORK_QUEUE_TYPE) {
    // SAFETY: the caller's item; marking it queued as the kernel does.
    unsafe { (*item).List.Flink = &raw mut (*item).List };
    QUEUE.with(|q| q.borrow_mut().push_back(item));
}

/// The kernel's `IO_WORKITEM`: the Ex item, then object, routine, context.
#[repr(C)]
struct IoItem {
    item: WORK_QUEUE_ITEM,
    object: *mut c_void,
    routine: PIO_WORKITEM_ROUTINE_EX,
    context: *mut c_void,
    refs: *mut usize,
}

unsafe extern "system" fn io_trampoline(parameter: *mut c_void) {
    let io = parameter.cast::<IoItem>();
    // SAFETY: the item IoQueueWorkItemEx queued; read before the routine may free it.
    unsafe {
        let (object, routine, context) = ((*io).object, (*io).routine, (*io).context);
        if let Some(routine) = routine {
            routine(object, context, io.cast());
        }
        ObfDereferenceObject(object);
    }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn IoAllocateWorkItem(object: PDEVICE_OBJECT) -> PIO_WORKITEM {
    // SAFETY: a fresh pool block for one IoItem.
    unsafe {
        let io = ExAllocatePool2(ffi::POOL_FLAG_NON_PAGED, size_of::<IoItem>(), 0).cast::<IoItem>();
        if io.is_null() {
            return io.cast();
        }
        io.write(IoItem {
            item: WORK_QUEUE_ITEM::new(),
            object: object.cast(),
            routine: None,
            context: core::ptr::null_mut(),
            refs: core::ptr::null_mut(),
        });
        io.cast()
    }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn IoFreeWorkItem(item: PIO_WORKITEM) {
    // SAFETY: allocated by IoAllocateWorkItem.
    unsafe { ExFreePoolWithTag(item.cast(), 0) }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn IoQueueWorkItemEx(
    item: PIO_WORKITEM,
    routine: PIO_WORKITEM_ROUTINE_EX,
    queue: WORK_QUEUE_TYPE,
    context: *mut c_void,
) {
    let io = item.cast::<IoItem>();
    // SAFETY: a live, unqueued item.
    unsafe {
        ObfReferenceObject((*io).object);
        (*io).routine = routine;
        (*io).context = context;
        (*io).item.WorkerRoutine = Some(io_trampoline);
        (*io).item.Parameter = io.cast();
        ExQueueWorkItem(&raw mut (*io).item, queue);
    }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn IoQueueWorkItem(
    _: PIO_WORKITEM,
    _: PIO_WORKITEM_ROUTINE,
    _: WORK_QUEUE_TYPE,
    _: *mut c_void,
) {
    unreachable!("not used by the benchmark")
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn IoTryQueueWorkItem(
    _: PIO_WORKITEM,
    _: PIO_WORKITEM_ROUTINE_EX,
    _: WORK_QUEUE_TYPE,
    _: *mut c_void,
) -> BOOLEAN {
    unreachable!("not used by the benchmark")
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn IoSizeofWorkItem() -> ULONG {
    size_of::<IoItem>() as ULONG
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn IoInitializeWorkItem(_: *mut c_void, _: PIO_WORKITEM) {
    unreachable!("not used by the benchmark")
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn IoUninitializeWorkItem(_: PIO_WORKITEM) {
    unreachable!("not used by the benchmark")
}

static mut OBJECT_REFS: isize = 1;

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ObfReferenceObject(_: *mut c_void) -> LONG_PTR {
    // SAFETY: single-threaded.
    unsafe {
        OBJECT_REFS += 1;
        OBJECT_REFS
    }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ObfDereferenceObject(_: *mut c_void) -> LONG_PTR {
    // SAFETY: single-threaded.
    unsafe {
        OBJECT_REFS -= 1;
        OBJECT_REFS
    }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ExInitializeRundownProtection(r: *mut EX_RUNDOWN_REF) {
    // SAFETY: the caller's rundown reference.
    unsafe { (*r).Count = 0 }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ExReInitializeRundownProtection(r: *mut EX_RUNDOWN_REF) {
    // SAFETY: the caller's rundown reference.
    unsafe { (*r).Count = 0 }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ExAcquireRundownProtection(r: *mut EX_RUNDOWN_REF) -> BOOLEAN {
    // SAFETY: the caller's rundown reference; the kernel's encoding: 2 per
    // holder, bit 0 = running down.
    unsafe {
        if (*r).Count & 1 != 0 {
            return 0;
        }
        (*r).Count += 2;
        1
    }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ExReleaseRundownProtection(r: *mut EX_RUNDOWN_REF) {
    // SAFETY: the caller's rundown reference, on which it holds protection.
    unsafe { (*r).Count -= 2 }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ExWaitForRundownProtectionRelease(r: *mut EX_RUNDOWN_REF) {
    // SAFETY: the caller's rundown reference (single-threaded: no holder to wait for).
    unsafe { (*r).Count |= 1 }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn ExRundownCompleted(r: *mut EX_RUNDOWN_REF) {
    // SAFETY: the caller's rundown reference.
    unsafe { (*r).Count = 1 }
}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn KeEnterCriticalRegion() {}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn KeLeaveCriticalRegion() {}

#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "system" fn KeDelayExecutionThread(
    _: KPROCESSOR_MODE,
    _: BOOLEAN,
    _: *mut i64,
) -> NTSTATUS {
    0
}
