//! A loom kernel: the exports ntwork's Ex and Io paths and rundown use, built
//! from loom's primitives so that loom explores every interleaving of ntwork's
//! own protocol code with the kernel's side of it. Only valid inside
//! `loom::model` (its state is loom-lazy, fresh for each execution).
//!
//! - `ExQueueWorkItem` and `IoQueueWorkItemEx` append to one FIFO (a loom
//!   mutex: the queue is a synchronization point, as the kernel's is);
//!   [`run_one`] is a worker taking the oldest item, marking it dequeued
//!   before calling its routine, as the kernel does. A queued Io item
//!   references its object until its routine has returned.
//! - Rundown protection keeps the kernel's encoding (2 per holder, bit 0 once
//!   a wait started) in a loom atomic per `EX_RUNDOWN_REF`; the waiter sleeps
//!   until the last holder's release signals it, as on Windows.
//! - Bookkeeping that is not a synchronization point in the kernel (pool
//!   blocks, `IO_WORKITEM`s, object references, devices) sits in a std
//!   mutex, which loom does not schedule around, so it adds no interleavings;
//!   the models read it through [`pool_blocks`], [`io_items`], [`references`]
//!   and [`devices`].
//! - Misuse the kernel bug-checks (an item queued twice, freed while queued,
//!   a reference dropped below zero, a release without an acquire, a device
//!   deleted twice) panics, which fails the model.
//! - `KeDelayExecutionThread` yields; pool is the system allocator, zeroed.
//! - Driver objects are zeroed `DRIVER_OBJECT`s with the driver-object
//!   extension exports; [`unload`] calls the object's `DriverUnload`, as the
//!   I/O manager does.
//! - `IoCreateDevice` makes a device as wdm.h lays it out (the object, then
//!   its extension, in one zeroed 16-aligned block) holding the creator's
//!   reference; `IoDeleteDevice` drops that reference, and the block is freed
//!   at the last one, so a deleted device stays readable while referenced.

#![allow(non_snake_case, clippy::missing_safety_doc)]

use core::ffi::c_void;
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::collections::{HashMap, VecDeque};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Condvar, Mutex};
use ntwork::ffi::{
    BOOLEAN, DEVICE_OBJECT, DRIVER_OBJECT, EX_RUNDOWN_REF, IO_WORKITEM_ROUTINE_EX, KPROCESSOR_MODE,
    LONG_PTR, NTSTATUS, PDEVICE_OBJECT, PDRIVER_OBJECT, PIO_WORKITEM, PIO_WORKITEM_ROUTINE,
    PIO_WORKITEM_ROUTINE_EX, POOL_FLAGS, SIZE_T, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_OBJECT_NAME_COLLISION, STATUS_SUCCESS, ULONG, UNICODE_STRING, WORK_QUEUE_ITEM,
    WORK_QUEUE_TYPE,
};
use ntwork::{DriverObject, Rundown};

/// A queued item: an `ExQueueWorkItem` item, or an Io item with its routine
/// and context.
enum Work {
    Ex(usize),
    Io {
        item: usize,
        routine: IO_WORKITEM_ROUTINE_EX,
        context: usize,
    },
}

/// An `IO_WORKITEM`: its object, and whether it is queued.
struct IoItem {
    object: usize,
    queued: bool,
}

#[derive(Default)]
struct Books {
    pool_blocks: usize,
    io_items: HashMap<usize, IoItem>,
    references: HashMap<usize, isize>,
    /// Each `EX_RUNDOWN_REF`'s count, by address.
    rundowns: HashMap<usize, std::sync::Arc<RundownRef>>,
    /// Driver-object extensions, by (driver, client address).
    extensions: HashMap<(usize, usize), usize>,
    /// `IoCreateDevice`'s devices whose block is not freed yet, by address.
    devices: HashMap<usize, DeviceBlock>,
}

/// A device's block (object and extension) and whether it was deleted.
struct DeviceBlock {
    layout: Layout,
    deleted: bool,
}

struct Kernel {
    queue: Mutex<VecDeque<Work>>,
    books: std::sync::Mutex<Books>,
    /// Orders a rundown reference's creation (its loom atomic) before every
    /// other thread's use of it: the books' std mutex is invisible to loom.
    rundown_registry: Mutex<()>,
}

loom::lazy_static! {
    static ref KERNEL: Kernel = Kernel {
        queue: Mutex::new(VecDeque::new()),
        books: std::sync::Mutex::new(Books::default()),
        rundown_registry: Mutex::new(()),
    };
}

fn books() -> std::sync::MutexGuard<'static, Books> {
    KERNEL.books.lock().unwrap()
}

/// Runs the oldest queued item on the calling thread; whether one ran.
pub fn run_one() -> bool {
    let work = KERNEL.queue.lock().unwrap().pop_front();
    match work {
        None => false,
        Some(Work::Ex(item)) => {
            let item = item as *mut WORK_QUEUE_ITEM;
            // SAFETY: a queued item stays valid until its routine runs; the
            // worker removes it (Flink = NULL) before calling it.
            unsafe {
                let (routine, parameter) = ((*item).WorkerRoutine, (*item).Parameter);
                (*item).List.Flink = core::ptr::null_mut();
                if let Some(routine) = routine {
                    routine(parameter);
                }
            }
            true
        }
        Some(Work::Io {
            item,
            routine,
            context,
        }) => {
            let object = {
                let mut books = books();
                let entry = books.io_items.get_mut(&item).expect("queued Io item freed");
                entry.queued = false;
                entry.object
            };
            // SAFETY: the queue's reference keeps the object alive; the routine
            // may requeue or free the item.
            unsafe {
                routine(
                    object as *mut c_void,
                    context as *mut c_void,
                    item as PIO_WORKITEM,
                )
            };
            // SAFETY: the reference `IoQueueWorkItemEx` took, dropped after the routine.
            unsafe { ObfDereferenceObject(object as *mut c_void) };
            true
        }
    }
}

/// Runs queued items until none is left (a routine may queue more).
pub fn run_all() -> usize {
    let mut ran = 0;
    while run_one() {
        ran += 1;
    }
    ran
}

/// Pool blocks allocated and not freed.
pub fn pool_blocks() -> usize {
    books().pool_blocks
}

/// `IO_WORKITEM`s allocated and not freed.
pub fn io_items() -> usize {
    books().io_items.len()
}

/// Devices from `IoCreateDevice` whose memory is not freed yet (deleted
/// ones that are still referenced included).
pub fn devices() -> usize {
    books().devices.len()
}

/// References taken on `object` and not dropped (a device from
/// `IoCreateDevice` counts its creator's until `IoDeleteDevice`).
pub fn references(object: *mut c_void) -> isize {
    books()
        .references
        .get(&(object as usize))
        .copied()
        .unwrap_or(0)
}

/// Checks `f` in every interleaving loom explores, with room for the
/// waits' spin loops (a waiting thread yields each turn, so its branches
/// grow with the other threads' steps). `LOOM_MAX_PREEMPTIONS` bounds it.
/// Prints how many executions were explored, for the CI log.
pub fn model(name: &str, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_BRANCHES").is_none() {
        builder.max_branches = 100_000;
    }
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&executions);
    let start = std::time::Instant::now();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    let executions = executions.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "loom {name}: {executions} executions in {:.2?}",
        start.elapsed()
    );
}

/// A fresh object address for a device or driver object (never read).
pub fn new_object() -> *mut c_void {
    // SAFETY: a zeroed DEVICE_OBJECT is a valid one (integers, pointers),
    // leaked for the model; a `&DeviceObject` covers its declared size.
    unsafe { alloc_zeroed(Layout::new::<ntwork::ffi::DEVICE_OBJECT>()).cast() }
}

/// A fresh driver: a zeroed `DRIVER_OBJECT` (no DriverUnload yet), leaked.
pub fn new_driver() -> &'static DriverObject {
    // SAFETY: a zeroed DRIVER_OBJECT is a valid one (all fields are integers,
    // pointers and nullable function pointers), leaked for the model.
    unsafe {
        let object = alloc_zeroed(Layout::new::<DRIVER_OBJECT>()).cast::<DRIVER_OBJECT>();
        DriverObject::from_raw(object)
    }
}

/// What DriverEntry does for the models: a driver with ntwork's DriverUnload
/// and `rundown` opened for it.
pub fn opened(rundown: Rundown) -> (&'static Rundown, &'static DriverObject) {
    let rundown: &'static Rundown = Box::leak(Box::new(rundown));
    let driver = new_driver();
    let irql = ntwork::irql::Passive::on_host();
    driver.set_unload(|_, _| {}, &irql).expect("a fresh driver");
    rundown
        .open(driver, &irql)
        .expect("a driver with ntwork's DriverUnload");
    (rundown, driver)
}

/// The I/O manager's unload: calls the driver's `DriverUnload`.
pub fn unload(driver: &DriverObject) {
    // SAFETY: a live driver object; its DriverUnload (ntwork's) is called
    // once, as the I/O manager does.
    unsafe {
        let raw = driver.as_raw();
        let routine = (*raw).DriverUnload.expect("an unloadable driver");
        routine(raw);
    }
}

/// Every thread of a model runs at PASSIVE_LEVEL: the IRQL proofs the models
/// make (and the routines' own) agree with it.
#[unsafe(no_mangle)]
pub extern "system" fn KeGetCurrentIrql() -> ntwork::ffi::KIRQL {
    ntwork::ffi::PASSIVE_LEVEL
}

/// A proof that disagrees with the IRQL stops the model.
#[unsafe(no_mangle)]
pub extern "system" fn KeBugCheckEx(code: ULONG, p1: usize, p2: usize, p3: usize, p4: usize) {
    panic!("bug check {code:#x} ({p1:#x}, {p2:#x}, {p3:#x}, {p4:#x})");
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn IoAllocateDriverObjectExtension(
    driver: PDRIVER_OBJECT,
    key: *mut c_void,
    size: ULONG,
    extension: *mut *mut c_void,
) -> NTSTATUS {
    let mut books = books();
    if books
        .extensions
        .contains_key(&(driver as usize, key as usize))
    {
        // SAFETY: the caller's out pointer.
        unsafe { *extension = core::ptr::null_mut() };
        return STATUS_OBJECT_NAME_COLLISION;
    }
    // SAFETY: a zeroed block of `size` bytes (leaked with the model's driver).
    let block = unsafe { alloc_zeroed(Layout::from_size_align(size.max(1) as usize, 16).unwrap()) };
    if block.is_null() {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    books
        .extensions
        .insert((driver as usize, key as usize), block as usize);
    // SAFETY: the caller's out pointer.
    unsafe { *extension = block.cast() };
    STATUS_SUCCESS
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn IoGetDriverObjectExtension(
    driver: PDRIVER_OBJECT,
    key: *mut c_void,
) -> *mut c_void {
    books()
        .extensions
        .get(&(driver as usize, key as usize))
        .map_or(core::ptr::null_mut(), |&block| block as *mut c_void)
}

/// One `EX_RUNDOWN_REF`: its count, and the event its waiter sleeps on (a
/// loom condition variable: a lost wakeup would leave the model deadlocked,
/// which loom reports).
struct RundownRef {
    count: AtomicUsize,
    lock: Mutex<()>,
    released: Condvar,
}

fn rundown(run_ref: *mut EX_RUNDOWN_REF) -> std::sync::Arc<RundownRef> {
    let _registry = KERNEL.rundown_registry.lock().unwrap();
    let mut books = books();
    let entry = books.rundowns.entry(run_ref as usize);
    std::sync::Arc::clone(entry.or_insert_with(|| {
        // The reference's first use: its count is what its memory holds
        // (0 initialized, 1 run down), kept in a loom atomic from then on.
        // SAFETY: the caller's live `EX_RUNDOWN_REF`.
        let initial = unsafe { (*run_ref).Count };
        std::sync::Arc::new(RundownRef {
            count: AtomicUsize::new(initial),
            lock: Mutex::new(()),
            released: Condvar::new(),
        })
    }))
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExQueueWorkItem(item: *mut WORK_QUEUE_ITEM, _: WORK_QUEUE_TYPE) {
    // SAFETY: the caller's item, valid until it runs.
    unsafe {
        assert!((*item).List.Flink.is_null(), "0xE4/1: queued twice");
        (*item).List.Flink = &raw mut (*item).List;
    }
    KERNEL
        .queue
        .lock()
        .unwrap()
        .push_back(Work::Ex(item as usize));
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExInitializeRundownProtection(r: *mut EX_RUNDOWN_REF) {
    rundown(r).count.store(0, Ordering::Release);
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExReInitializeRundownProtection(r: *mut EX_RUNDOWN_REF) {
    let rundown = rundown(r);
    let before = rundown.count.swap(0, Ordering::AcqRel);
    assert_eq!(before, 1, "re-initialized while not run down");
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExAcquireRundownProtection(r: *mut EX_RUNDOWN_REF) -> BOOLEAN {
    let rundown = rundown(r);
    let mut current = rundown.count.load(Ordering::Relaxed);
    loop {
        if current & 1 != 0 {
            return 0;
        }
        let next = current + 2;
        match rundown
            .count
            .compare_exchange(current, next, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => return 1,
            Err(seen) => current = seen,
        }
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExReleaseRundownProtection(r: *mut EX_RUNDOWN_REF) {
    let rundown = rundown(r);
    let before = rundown.count.fetch_sub(2, Ordering::Release);
    assert!(before >= 2, "released more than acquired");
    if before == 3 {
        // The last holder leaves while a wait runs: signal its event.
        let _lock = rundown.lock.lock().unwrap();
        rundown.released.notify_all();
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExWaitForRundownProtectionRelease(r: *mut EX_RUNDOWN_REF) {
    let rundown = rundown(r);
    let mut lock = rundown.lock.lock().unwrap();
    let before = rundown.count.fetch_or(1, Ordering::AcqRel);
    assert_eq!(before & 1, 0, "a second waiter");
    while rundown.count.load(Ordering::Acquire) != 1 {
        lock = rundown.released.wait(lock).unwrap();
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExRundownCompleted(r: *mut EX_RUNDOWN_REF) {
    rundown(r).count.store(1, Ordering::Release);
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
    books().pool_blocks += 1;
    // SAFETY: a non-zero layout; the header keeps the size for the free.
    // ExAllocatePool2 zeroes the block.
    unsafe {
        let base = alloc_zeroed(layout);
        base.cast::<usize>().write(n);
        base.add(HEADER).cast()
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExFreePoolWithTag(p: *mut c_void, _: ULONG) {
    let mut books = books();
    assert!(books.pool_blocks > 0, "0xC2: pool freed twice");
    books.pool_blocks -= 1;
    // SAFETY: from ExAllocatePool2 above.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        let n = base.cast::<usize>().read();
        dealloc(base, Layout::from_size_align(n + HEADER, HEADER).unwrap());
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn IoAllocateWorkItem(object: PDEVICE_OBJECT) -> PIO_WORKITEM {
    let item = Box::into_raw(Box::new(0u64));
    let entry = IoItem {
        object: object as usize,
        queued: false,
    };
    books().io_items.insert(item as usize, entry);
    item.cast()
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn IoFreeWorkItem(item: PIO_WORKITEM) {
    let entry = books().io_items.remove(&(item as usize));
    let entry = entry.expect("IoFreeWorkItem: not an allocated item");
    assert!(!entry.queued, "IoFreeWorkItem: the item is queued");
    // SAFETY: from `IoAllocateWorkItem`, freed once (removed above).
    drop(unsafe { Box::from_raw(item.cast::<u64>()) });
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn IoQueueWorkItemEx(
    item: PIO_WORKITEM,
    routine: PIO_WORKITEM_ROUTINE_EX,
    _: WORK_QUEUE_TYPE,
    context: *mut c_void,
) {
    let object = {
        let mut books = books();
        let entry = books.io_items.get_mut(&(item as usize));
        let entry = entry.expect("IoQueueWorkItemEx: not an allocated item");
        assert!(!entry.queued, "0xE4/1: queued twice");
        entry.queued = true;
        entry.object
    };
    // SAFETY: the item's object is live (its owner's reference); the queue
    // holds its own until the routine returns.
    unsafe { ObfReferenceObject(object as *mut c_void) };
    let routine = routine.expect("IoQueueWorkItemEx: no routine");
    let work = Work::Io {
        item: item as usize,
        routine,
        context: context as usize,
    };
    KERNEL.queue.lock().unwrap().push_back(work);
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ObfReferenceObject(object: *mut c_void) -> LONG_PTR {
    let mut books = books();
    let count = books.references.entry(object as usize).or_insert(0);
    *count += 1;
    *count
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn ObfDereferenceObject(object: *mut c_void) -> LONG_PTR {
    dereference(&mut books(), object as usize)
}

/// Drops a reference; the last one of a deleted device frees its block.
fn dereference(books: &mut Books, object: usize) -> LONG_PTR {
    let count = books.references.entry(object).or_insert(0);
    *count -= 1;
    let count = *count;
    assert!(count >= 0, "0x18: a reference dropped that was never taken");
    if count > 0 {
        return count;
    }
    let Some(device) = books.devices.get(&object) else {
        return count;
    };
    // Only IoDeleteDevice drops the creator's reference.
    assert!(
        device.deleted,
        "0x18: a live device's last reference dropped"
    );
    let layout = books.devices.remove(&object).unwrap().layout;
    books.references.remove(&object);
    // The block's rundown references (an extension's guards) go with it: a
    // later block at this address starts from its own memory.
    let block = object..object + layout.size();
    books.rundowns.retain(|&at, _| !block.contains(&at));
    // SAFETY: from IoCreateDevice's `alloc_zeroed` with this layout; freed
    // once (removed from the books above), when nothing references it.
    unsafe { dealloc(object as *mut u8, layout) };
    count
}

/// `sizeof(DEVICE_OBJECT)` in wdm.h (what ntwork's header lookup subtracts
/// from `Size`): the extension starts right after it.
const DEVICE_OBJECT_SIZE: usize = if size_of::<usize>() == 8 { 0x150 } else { 0xB8 };

/// `IO_TYPE_DEVICE`.
const IO_TYPE_DEVICE: i16 = 3;

/// The name, characteristics and exclusivity are not modelled (no object
/// namespace), nor the driver's device list (nothing ntwork reads).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn IoCreateDevice(
    driver: PDRIVER_OBJECT,
    extension_size: ULONG,
    _: *mut UNICODE_STRING,
    device_type: ULONG,
    characteristics: ULONG,
    _: BOOLEAN,
    out: *mut PDEVICE_OBJECT,
) -> NTSTATUS {
    // SAFETY: the caller's out pointer; NULL unless a device is made, as
    // Windows leaves it on failure.
    unsafe { *out = core::ptr::null_mut() };
    let extension_size = extension_size as usize;
    let Some(size) = DEVICE_OBJECT_SIZE.checked_add(extension_size) else {
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    // `Size` is a USHORT in wdm.h: the kernel refuses what does not fit.
    let Ok(object_size) = u16::try_from(size) else {
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    // MEMORY_ALLOCATION_ALIGNMENT, as the kernel's pool gives it.
    let layout = Layout::from_size_align(size.next_multiple_of(16), 16).unwrap();
    // SAFETY: a non-zero layout.
    let block = unsafe { alloc_zeroed(layout) };
    if block.is_null() {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    let device = block.cast::<DEVICE_OBJECT>();
    // SAFETY: a fresh zeroed block of at least DEVICE_OBJECT_SIZE bytes
    // (more than the declared fields), which only this call knows; all-zero
    // bytes are a valid DEVICE_OBJECT (integers and pointers).
    unsafe {
        (*device).Type = IO_TYPE_DEVICE;
        (*device).Size = object_size;
        (*device).DriverObject = driver;
        (*device).Characteristics = characteristics;
        (*device).DeviceType = device_type;
        (*device).StackSize = 1;
        if extension_size > 0 {
            (*device).DeviceExtension = block.add(DEVICE_OBJECT_SIZE).cast();
        }
    }
    let mut books = books();
    books.devices.insert(
        device as usize,
        DeviceBlock {
            layout,
            deleted: false,
        },
    );
    // The creator's reference, which IoDeleteDevice drops.
    books.references.insert(device as usize, 1);
    // SAFETY: the caller's out pointer.
    unsafe { *out = device };
    STATUS_SUCCESS
}

#[unsafe(no_mangle)]
pub unsafe extern "system" fn IoDeleteDevice(device: PDEVICE_OBJECT) {
    let mut books = books();
    let entry = books.devices.get_mut(&(device as usize));
    let entry = entry.expect("IoDeleteDevice: not a live device of IoCreateDevice");
    assert!(!entry.deleted, "IoDeleteDevice: deleted twice");
    entry.deleted = true;
    dereference(&mut books, device as usize);
}

// Linked but not used by the models.
macro_rules! not_modelled {
    ($($name:ident($($arg:ty),*) $(-> $ret:ty)?;)*) => {$(
        #[unsafe(no_mangle)]
        pub unsafe extern "system" fn $name($(_: $arg),*) $(-> $ret)? {
            unreachable!(concat!(stringify!($name), " is not part of the loom kernel"))
        }
    )*};
}

not_modelled! {
    IoQueueWorkItem(PIO_WORKITEM, PIO_WORKITEM_ROUTINE, WORK_QUEUE_TYPE, *mut c_void);
    IoTryQueueWorkItem(PIO_WORKITEM, PIO_WORKITEM_ROUTINE_EX, WORK_QUEUE_TYPE, *mut c_void) -> BOOLEAN;
    IoSizeofWorkItem() -> ULONG;
    IoInitializeWorkItem(*mut c_void, PIO_WORKITEM);
    IoUninitializeWorkItem(PIO_WORKITEM);
}
