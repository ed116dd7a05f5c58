//! A loom kernel: the exports ntwork's Ex path and rundown use, built from
//! loom's primitives so that loom explores every interleaving of ntwork's own
//! protocol code with the kernel's side of it. Only valid inside
//! `loom::model` (its state is loom-lazy, fresh for each execution).
//!
//! - `ExQueueWorkItem` appends to a FIFO; [`run_one`] is a worker taking the
//!   oldest item (clearing `Flink` first, as the kernel does).
//! - Rundown protection keeps the kernel's encoding (2 per holder, bit 0 once
//!   a wait started) in a loom atomic per `EX_RUNDOWN_REF`.
//! - `KeDelayExecutionThread` yields; pool is the system allocator.

#![allow(non_snake_case, clippy::missing_safety_doc)]

use core::ffi::c_void;
use std::alloc::{Layout, alloc, dealloc};
use std::collections::{HashMap, VecDeque};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use ntwork::ffi::{
    BOOLEAN, EX_RUNDOWN_REF, KPROCESSOR_MODE, LONG_PTR, NTSTATUS, PDEVICE_OBJECT, PIO_WORKITEM,
    PIO_WORKITEM_ROUTINE, PIO_WORKITEM_ROUTINE_EX, POOL_FLAGS, SIZE_T, ULONG, WORK_QUEUE_ITEM,
    WORK_QUEUE_TYPE,
};

struct Kernel {
    queue: Mutex<VecDeque<usize>>,
    rundowns: Mutex<HashMap<usize, Arc<AtomicUsize>>>,
}

loom::lazy_static! {
    static ref KERNEL: Kernel = Kernel {
        queue: Mutex::new(VecDeque::new()),
        rundowns: Mutex::new(HashMap::new()),
    };
}

/// Runs the oldest queued item on the calling thread; whether one ran.
pub fn run_one() -> bool {
    let item = KERNEL.queue.lock().unwrap().pop_front();
    let Some(item) = item else { return false };
    let item = item as *mut WORK_QUEUE_ITEM;
    // SAFETY: a queued item stays valid until its routine runs; the worker
    // removes it (Flink = NULL) before calling it.
    unsafe {
        let (routine, parameter) = ((*item).WorkerRoutine, (*item).Parameter);
        (*item).List.Flink = core::ptr::null_mut();
        if let Some(routine) = routine {
            routine(parameter);
        }
    }
    true
}

/// Items queued and not yet run.
#[allow(dead_code)]
pub fn pending() -> usize {
    KERNEL.queue.lock().unwrap().len()
}

fn count(run_ref: *mut EX_RUNDOWN_REF) -> Arc<AtomicUsize> {
    let mut map = KERNEL.rundowns.lock().unwrap();
    Arc::clone(
        map.entry(run_ref as usize)
            .or_insert_with(|| Arc::new(AtomicUsize::new(0))),
    )
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExQueueWorkItem(item: *mut WORK_QUEUE_ITEM, _: WORK_QUEUE_TYPE) {
    // SAFETY: the caller's item, valid until it runs.
    unsafe {
        assert!((*item).List.Flink.is_null(), "0xE4/1: queued twice");
        (*item).List.Flink = &raw mut (*item).List;
    }
    KERNEL.queue.lock().unwrap().push_back(item as usize);
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExInitializeRundownProtection(r: *mut EX_RUNDOWN_REF) {
    count(r).store(0, Ordering::Release);
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExReInitializeRundownProtection(r: *mut EX_RUNDOWN_REF) {
    count(r).store(0, Ordering::Release);
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExAcquireRundownProtection(r: *mut EX_RUNDOWN_REF) -> BOOLEAN {
    let count = count(r);
    let mut current = count.load(Ordering::Relaxed);
    loop {
        if current & 1 != 0 {
            return 0;
        }
        match count.compare_exchange(current, current + 2, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => return 1,
            Err(seen) => current = seen,
        }
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExReleaseRundownProtection(r: *mut EX_RUNDOWN_REF) {
    let before = count(r).fetch_sub(2, Ordering::Release);
    assert!(before >= 2, "released more than acquired");
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExWaitForRundownProtectionRelease(r: *mut EX_RUNDOWN_REF) {
    let count = count(r);
    count.fetch_or(1, Ordering::AcqRel);
    while count.load(Ordering::Acquire) != 1 {
        loom::thread::yield_now();
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExRundownCompleted(r: *mut EX_RUNDOWN_REF) {
    count(r).store(1, Ordering::Release);
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeDelayExecutionThread(
    _: KPROCESSOR_MODE,
    _: BOOLEAN,
    _: *mut i64,
) -> NTSTATUS {
    loom::thread::yield_now();
    0
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeEnterCriticalRegion() {}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeLeaveCriticalRegion() {}

const HEADER: usize = 16;

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExAllocatePool2(_: POOL_FLAGS, n: SIZE_T, _: ULONG) -> *mut c_void {
    let layout = Layout::from_size_align(n + HEADER, HEADER).unwrap();
    // SAFETY: a non-zero layout; the header keeps the size for the free.
    unsafe {
        let base = alloc(layout);
        base.cast::<usize>().write(n);
        base.add(HEADER).cast()
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExFreePoolWithTag(p: *mut c_void, _: ULONG) {
    // SAFETY: from ExAllocatePool2 above.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        let n = base.cast::<usize>().read();
        dealloc(base, Layout::from_size_align(n + HEADER, HEADER).unwrap());
    }
}

// The Io exports are linked but not modelled here.
macro_rules! not_modelled {
    ($($name:ident($($arg:ty),*) $(-> $ret:ty)?;)*) => {$(
        #[unsafe(no_mangle)]
        pub unsafe extern "system" fn $name($(_: $arg),*) $(-> $ret)? {
            unreachable!(concat!(stringify!($name), " is not part of the loom kernel"))
        }
    )*};
}

not_modelled! {
    IoAllocateWorkItem(PDEVICE_OBJECT) -> PIO_WORKITEM;
    IoFreeWorkItem(PIO_WORKITEM);
    IoQueueWorkItem(PIO_WORKITEM, PIO_WORKITEM_ROUTINE, WORK_QUEUE_TYPE, *mut c_void);
    IoQueueWorkItemEx(PIO_WORKITEM, PIO_WORKITEM_ROUTINE_EX, WORK_QUEUE_TYPE, *mut c_void);
    IoTryQueueWorkItem(PIO_WORKITEM, PIO_WORKITEM_ROUTINE_EX, WORK_QUEUE_TYPE, *mut c_void) -> BOOLEAN;
    IoSizeofWorkItem() -> ULONG;
    IoInitializeWorkItem(*mut c_void, PIO_WORKITEM);
    IoUninitializeWorkItem(PIO_WORKITEM);
    ObfReferenceObject(*mut c_void) -> LONG_PTR;
    ObfDereferenceObject(*mut c_void) -> LONG_PTR;
}
