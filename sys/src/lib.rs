//! The kernel seam of ntwork: the types and functions of work items, named
//! exactly as in `wdm.h` (and, with feature `wdf`, KMDF's headers).
//!
//! Everything here is the C contract and nothing more; it imports nothing of
//! ntwork. The safe API is the `ntwork` crate, which re-exports this crate as
//! `ntwork::ffi`. In a driver the functions resolve to `ntoskrnl.exe`; on
//! Linux the `ntwork-host` crate defines the same symbols, so tests make the
//! very calls a driver makes.
//!
//! Routine pointer types carry their real parameters (`windows-sys` declares them
//! parameterless, a known metadata defect). A routine cannot be *cast* to
//! another binding's pointer type (the ABI is part of the type; `as` is
//! E0605): `ntwork::abi` gives each routine in the type the binding declares.
//! Raw object pointers from `wdk-sys` or `windows-sys` go in with `.cast()`:
//! the pointee types differ only in name.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![no_std]
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]
#![deny(clippy::multiple_unsafe_ops_per_block)]

use core::ffi::c_void;
use core::marker::{PhantomData, PhantomPinned};

#[macro_use]
mod conventions;
#[cfg(not(target_os = "windows"))]
pub mod host;
mod objects;
mod status;
#[cfg(feature = "wdf")]
pub mod wdf;

pub use objects::{
    DEVICE_OBJECT, DRIVER_OBJECT, DRIVER_UNLOAD, DRVO_UNLOAD_INVOKED, PDRIVER_UNLOAD,
    UNICODE_STRING,
};
pub use status::*;

/// `LIST_ENTRY`: a node of a doubly linked list.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct LIST_ENTRY {
    /// Next entry; `NULL` while a work item is not queued.
    pub Flink: *mut LIST_ENTRY,
    /// Previous entry.
    pub Blink: *mut LIST_ENTRY,
}

wdk_abi! { NTAPI
    /// `WORKER_THREAD_ROUTINE`: what a system worker thread calls with the
    /// item's `Parameter` (wdm.h declares no convention: stdcall under `/Gz`).
    pub type WORKER_THREAD_ROUTINE = fn(Parameter: *mut c_void);
}
/// `PWORKER_THREAD_ROUTINE`: a nullable [`WORKER_THREAD_ROUTINE`].
pub type PWORKER_THREAD_ROUTINE = Option<WORKER_THREAD_ROUTINE>;

/// `WORK_QUEUE_ITEM`: the Ex path's work item, in caller-owned nonpaged memory.
#[repr(C)]
#[derive(Debug)]
pub struct WORK_QUEUE_ITEM {
    /// Link in the worker queue; the kernel sets `Flink` to `NULL` when it dequeues.
    pub List: LIST_ENTRY,
    /// The routine the worker calls.
    pub WorkerRoutine: PWORKER_THREAD_ROUTINE,
    /// The routine's argument (`volatile PVOID` in C).
    pub Parameter: *mut c_void,
}

impl WORK_QUEUE_ITEM {
    /// An unqueued item: all fields zero (`Flink == NULL`), as `RtlZeroMemory`
    /// leaves it; `ExInitializeWorkItem` fills it in.
    pub const fn new() -> Self {
        Self {
            List: LIST_ENTRY {
                Flink: core::ptr::null_mut(),
                Blink: core::ptr::null_mut(),
            },
            WorkerRoutine: None,
            Parameter: core::ptr::null_mut(),
        }
    }
}

impl Default for WORK_QUEUE_ITEM {
    fn default() -> Self {
        Self::new()
    }
}

/// `WORK_QUEUE_TYPE`: a C enum, 4 bytes.
pub type WORK_QUEUE_TYPE = i32;
/// Threads at priority 13; for time-critical work.
pub const CriticalWorkQueue: WORK_QUEUE_TYPE = 0;
/// Threads at priority 12; the queue drivers are told to use.
pub const DelayedWorkQueue: WORK_QUEUE_TYPE = 1;
/// Priority 15; reserved for the system. The safe API cannot name it.
pub const HyperCriticalWorkQueue: WORK_QUEUE_TYPE = 2;
/// Threads at priority 8.
pub const NormalWorkQueue: WORK_QUEUE_TYPE = 3;
/// Threads at priority 7.
pub const BackgroundWorkQueue: WORK_QUEUE_TYPE = 4;
/// Threads at priority 18.
pub const RealTimeWorkQueue: WORK_QUEUE_TYPE = 5;
/// Threads at priority 14.
pub const SuperCriticalWorkQueue: WORK_QUEUE_TYPE = 6;
/// One past the last fixed queue (it was 3 in Vista-era headers).
pub const MaximumWorkQueue: WORK_QUEUE_TYPE = 7;
/// `CustomPriorityWorkQueue + priority` (priority `0..=31`) runs at that priority.
pub const CustomPriorityWorkQueue: WORK_QUEUE_TYPE = 32;

/// `KIRQL`.
pub type KIRQL = u8;
/// Threads run here; work routines start and must return here.
pub const PASSIVE_LEVEL: KIRQL = 0;
/// Asynchronous procedure calls are masked.
pub const APC_LEVEL: KIRQL = 1;
/// DPCs and the dispatcher; the highest level at which work may be queued.
pub const DISPATCH_LEVEL: KIRQL = 2;
/// The highest level on x64 and arm64.
pub const HIGH_LEVEL: KIRQL = 15;

/// `BOOLEAN`: `UCHAR`, 0 is `FALSE`.
pub type BOOLEAN = u8;
/// `ULONG`.
pub type ULONG = u32;

/// Marks a type that only exists behind pointers the kernel hands out.
type Opaque = PhantomData<(*mut u8, PhantomPinned)>;

/// `IO_WORKITEM`: opaque, its size changes between releases; see [`IoSizeofWorkItem`].
#[repr(C)]
pub struct IO_WORKITEM {
    _data: [u8; 0],
    _marker: Opaque,
}

/// `PIO_WORKITEM`.
pub type PIO_WORKITEM = *mut IO_WORKITEM;
/// `PDEVICE_OBJECT`.
pub type PDEVICE_OBJECT = *mut DEVICE_OBJECT;
/// `PDRIVER_OBJECT`.
pub type PDRIVER_OBJECT = *mut DRIVER_OBJECT;

/// `NTSTATUS`.
pub type NTSTATUS = i32;
/// `FILE_DEVICE_UNKNOWN`: a `DeviceType` for a device of no other type.
pub const FILE_DEVICE_UNKNOWN: ULONG = 0x22;
/// `FILE_DEVICE_SECURE_OPEN`: a `DeviceCharacteristics` flag; the device's
/// security descriptor applies to opens of names in its namespace too. Most
/// drivers set it.
pub const FILE_DEVICE_SECURE_OPEN: ULONG = 0x100;
/// `LONG_PTR`.
pub type LONG_PTR = isize;
/// `SIZE_T`.
pub type SIZE_T = usize;
/// `POOL_FLAGS` (`ExAllocatePool2`).
pub type POOL_FLAGS = u64;
/// `POOL_FLAG_NON_PAGED`: nonpaged, non-executable pool (NonPagedPoolNx).
pub const POOL_FLAG_NON_PAGED: POOL_FLAGS = 0x0000_0000_0000_0040;
/// `KPROCESSOR_MODE`.
pub type KPROCESSOR_MODE = i8;
/// `KernelMode`.
pub const KernelMode: KPROCESSOR_MODE = 0;

/// `EX_SPIN_LOCK`: a reader/writer spin lock, a `LONG`; 0 is released (the
/// driver initializes it to zero), in nonpaged memory.
pub type EX_SPIN_LOCK = i32;

/// `EX_RUNDOWN_REF`: rundown protection. All zero is the initialized state
/// (`ExInitializeRundownProtection` stores 0), so it can live in a `static`.
#[repr(C)]
#[derive(Debug)]
pub struct EX_RUNDOWN_REF {
    /// `Count` (a union with `Ptr` in C): twice the number of holders, bit 0
    /// set once a rundown has started.
    pub Count: usize,
}

impl EX_RUNDOWN_REF {
    /// An initialized rundown reference with no holders.
    pub const fn new() -> Self {
        Self { Count: 0 }
    }
}

impl Default for EX_RUNDOWN_REF {
    fn default() -> Self {
        Self::new()
    }
}

wdk_abi! { NTAPI
    /// `IO_WORKITEM_ROUTINE`: called with the device object and the context
    /// (wdm.h: no convention, stdcall under `/Gz`).
    pub type IO_WORKITEM_ROUTINE = fn(DeviceObject: PDEVICE_OBJECT, Context: *mut c_void);
}
/// `PIO_WORKITEM_ROUTINE`.
pub type PIO_WORKITEM_ROUTINE = Option<IO_WORKITEM_ROUTINE>;
wdk_abi! { NTAPI
    /// `IO_WORKITEM_ROUTINE_EX`: also receives the work item, which it may
    /// free or requeue (wdm.h: no convention, stdcall under `/Gz`).
    pub type IO_WORKITEM_ROUTINE_EX =
        fn(IoObject: *mut c_void, Context: *mut c_void, IoWorkItem: PIO_WORKITEM);
}
/// `PIO_WORKITEM_ROUTINE_EX`.
pub type PIO_WORKITEM_ROUTINE_EX = Option<IO_WORKITEM_ROUTINE_EX>;

// Every import below is checked on x86 by `.ci/drivers`, which links a
// driver against an ntoskrnl import library decorated as the headers declare
// (`drivers/link/ntoskrnl.exports` cites the header line of each).

wdk_abi! { NTAPI extern {
    // wdm.h declares these `NTKERNELAPI` without a convention (stdcall under
    // `/Gz`) or `NTAPI`; KeEnterCriticalRegion, KeLeaveCriticalRegion and
    // KeDelayExecutionThread are in ntddk.h (wdm.h in older WDKs).
    /// Queues `WorkItem` to the system worker threads of `QueueType`.
    ///
    /// Caller IRQL <= `DISPATCH_LEVEL`. Only for work not associated with a
    /// device object. The item must be in nonpaged memory and not already queued
    /// (`List.Flink == NULL`), else bug check `0xE4` subcode 1.
    pub fn ExQueueWorkItem(WorkItem: *mut WORK_QUEUE_ITEM, QueueType: WORK_QUEUE_TYPE);

    /// Allocates and initializes an `IO_WORKITEM` bound to `DeviceObject`;
    /// `NULL` under low resources. Caller IRQL <= `DISPATCH_LEVEL`.
    pub fn IoAllocateWorkItem(DeviceObject: PDEVICE_OBJECT) -> PIO_WORKITEM;

    /// Frees an item from [`IoAllocateWorkItem`]. Never while it is queued
    /// (bug check `0xE4` subcode 2); allowed inside the item's own routine.
    pub fn IoFreeWorkItem(IoWorkItem: PIO_WORKITEM);

    /// References the item's device object until `WorkerRoutine` returns, and
    /// queues the item. Caller IRQL <= `DISPATCH_LEVEL`.
    pub fn IoQueueWorkItem(
        IoWorkItem: PIO_WORKITEM,
        WorkerRoutine: PIO_WORKITEM_ROUTINE,
        QueueType: WORK_QUEUE_TYPE,
        Context: *mut c_void,
    );

    /// As [`IoQueueWorkItem`], with a routine that receives the item (Vista).
    pub fn IoQueueWorkItemEx(
        IoWorkItem: PIO_WORKITEM,
        WorkerRoutine: PIO_WORKITEM_ROUTINE_EX,
        QueueType: WORK_QUEUE_TYPE,
        Context: *mut c_void,
    );

    /// As [`IoQueueWorkItemEx`], but returns `FALSE` without queueing when no
    /// worker is available now (Windows 8).
    pub fn IoTryQueueWorkItem(
        IoWorkItem: PIO_WORKITEM,
        WorkerRoutine: PIO_WORKITEM_ROUTINE_EX,
        QueueType: WORK_QUEUE_TYPE,
        Context: *mut c_void,
    ) -> BOOLEAN;

    /// The size of an `IO_WORKITEM` on the running system, for embedding one.
    pub fn IoSizeofWorkItem() -> ULONG;

    /// Initializes an embedded `IO_WORKITEM` of [`IoSizeofWorkItem`] bytes,
    /// bound to `IoObject` (a `DEVICE_OBJECT` or `DRIVER_OBJECT`).
    pub fn IoInitializeWorkItem(IoObject: *mut c_void, IoWorkItem: PIO_WORKITEM);

    /// Undoes [`IoInitializeWorkItem`]; call before freeing the memory.
    pub fn IoUninitializeWorkItem(IoWorkItem: PIO_WORKITEM);

    /// Allocates pool (Windows 10 2004). With [`POOL_FLAG_NON_PAGED`]: nonpaged,
    /// zeroed, `MEMORY_ALLOCATION_ALIGNMENT`-aligned (16 bytes on 64-bit);
    /// `NULL` on failure. Caller IRQL <= `DISPATCH_LEVEL` for nonpaged pool.
    pub fn ExAllocatePool2(Flags: POOL_FLAGS, NumberOfBytes: SIZE_T, Tag: ULONG) -> *mut c_void;

    /// Frees pool allocated with `Tag`. Caller IRQL <= `DISPATCH_LEVEL`.
    pub fn ExFreePoolWithTag(P: *mut c_void, Tag: ULONG);

    /// Allocates the driver object's extension identified by
    /// `ClientIdentificationAddress` (zeroed, nonpaged, freed with the driver
    /// object); `STATUS_OBJECT_NAME_COLLISION` if it exists. IRQL <= APC_LEVEL.
    pub fn IoAllocateDriverObjectExtension(
        DriverObject: PDRIVER_OBJECT,
        ClientIdentificationAddress: *mut c_void,
        DriverObjectExtensionSize: ULONG,
        DriverObjectExtension: *mut *mut c_void,
    ) -> NTSTATUS;

    /// The extension [`IoAllocateDriverObjectExtension`] made for
    /// `ClientIdentificationAddress`, or NULL. IRQL <= APC_LEVEL.
    pub fn IoGetDriverObjectExtension(
        DriverObject: PDRIVER_OBJECT,
        ClientIdentificationAddress: *mut c_void,
    ) -> *mut c_void;

    /// Creates a device object with `DeviceExtensionSize` bytes of zeroed
    /// extension. PASSIVE_LEVEL.
    pub fn IoCreateDevice(
        DriverObject: PDRIVER_OBJECT,
        DeviceExtensionSize: ULONG,
        DeviceName: *mut UNICODE_STRING,
        DeviceType: ULONG,
        DeviceCharacteristics: ULONG,
        Exclusive: BOOLEAN,
        DeviceObject: *mut PDEVICE_OBJECT,
    ) -> NTSTATUS;

    /// Marks a device object for deletion and drops the creator's reference:
    /// the object (and its extension) goes at its last reference. PASSIVE_LEVEL.
    pub fn IoDeleteDevice(DeviceObject: PDEVICE_OBJECT);

    /// Disables normal kernel APCs for the calling thread (a critical region).
    /// Must be balanced by [`KeLeaveCriticalRegion`] before a work routine returns
    /// (else bug check `0x01` APC_INDEX_MISMATCH).
    pub fn KeEnterCriticalRegion();

    /// Leaves a critical region entered with [`KeEnterCriticalRegion`].
    pub fn KeLeaveCriticalRegion();

    /// Acquires an `EX_SPIN_LOCK` exclusively and raises the IRQL to
    /// `DISPATCH_LEVEL`; returns the IRQL on entry, for the release. Caller
    /// IRQL <= `DISPATCH_LEVEL`; the lock is not held by the caller already.
    pub fn ExAcquireSpinLockExclusive(SpinLock: *mut EX_SPIN_LOCK) -> KIRQL;

    /// Releases a lock taken by [`ExAcquireSpinLockExclusive`] and restores
    /// the IRQL it returned. `DISPATCH_LEVEL`.
    pub fn ExReleaseSpinLockExclusive(SpinLock: *mut EX_SPIN_LOCK, OldIrql: KIRQL);

    /// Puts the calling thread to sleep for `*Interval` (negative: relative, in
    /// 100 ns units). `PASSIVE_LEVEL` (APC_LEVEL if not alertable).
    pub fn KeDelayExecutionThread(
        WaitMode: KPROCESSOR_MODE,
        Alertable: BOOLEAN,
        Interval: *mut i64,
    ) -> NTSTATUS;
}}

wdk_abi! { FASTCALL extern {
    // wdm.h: `NTKERNELAPI ... FASTCALL` (ReactOS's ntoskrnl.spec exports them
    // `fastcall` too): `@Name@4` on x86, the argument in ECX.
    /// `ObReferenceObject`: one more reference on a kernel object (a device or
    /// driver object here); the object lives until the last one is dropped.
    /// Any IRQL <= `DISPATCH_LEVEL`. Returns the new count (informational).
    pub fn ObfReferenceObject(Object: *mut c_void) -> LONG_PTR;

    /// `ObDereferenceObject`: drops a reference taken by [`ObfReferenceObject`].
    /// IRQL <= `DISPATCH_LEVEL`.
    pub fn ObfDereferenceObject(Object: *mut c_void) -> LONG_PTR;

    /// Initializes rundown protection (stores 0). Any IRQL.
    pub fn ExInitializeRundownProtection(RunRef: *mut EX_RUNDOWN_REF);

    /// Makes a run-down reference usable again after
    /// [`ExWaitForRundownProtectionRelease`] returned. Any IRQL.
    pub fn ExReInitializeRundownProtection(RunRef: *mut EX_RUNDOWN_REF);

    /// Takes rundown protection: `FALSE` once a rundown has started.
    /// IRQL <= `DISPATCH_LEVEL`.
    pub fn ExAcquireRundownProtection(RunRef: *mut EX_RUNDOWN_REF) -> BOOLEAN;

    /// Releases protection taken by [`ExAcquireRundownProtection`].
    /// IRQL <= `DISPATCH_LEVEL`.
    pub fn ExReleaseRundownProtection(RunRef: *mut EX_RUNDOWN_REF);

    /// Starts a rundown (later acquires fail) and waits until every holder has
    /// released. `PASSIVE_LEVEL` (APC_LEVEL allowed); one waiter at a time.
    pub fn ExWaitForRundownProtectionRelease(RunRef: *mut EX_RUNDOWN_REF);

    /// Marks a rundown complete without waiting (no holders may remain). Any IRQL.
    pub fn ExRundownCompleted(RunRef: *mut EX_RUNDOWN_REF);
}}

/// A handle that keeps a `DEVICE_OBJECT`'s memory: a test harness's device
/// handle, so code can borrow the device safely from it (`&DeviceObject` for
/// as long as `&self`).
///
/// # Safety
///
/// [`device_object`](Self::device_object) returns the same non-NULL
/// `DEVICE_OBJECT` every time, and its memory (the object and its
/// `DeviceExtension`) stays valid, at the same address, while `&self` is
/// borrowed, whether or not the object manager has freed the object.
pub unsafe trait KeepsDeviceObject {
    /// The device object.
    fn device_object(&self) -> PDEVICE_OBJECT;
}

/// A handle that keeps a `DRIVER_OBJECT`'s memory, as
/// [`KeepsDeviceObject`] for a device.
///
/// # Safety
///
/// [`driver_object`](Self::driver_object) returns the same non-NULL
/// `DRIVER_OBJECT` every time, and its memory stays valid, at the same
/// address, while `&self` is borrowed.
pub unsafe trait KeepsDriverObject {
    /// The driver object.
    fn driver_object(&self) -> PDRIVER_OBJECT;
}

// SAFETY: a borrow of a handle keeps what the handle keeps, for as long.
unsafe impl<T: KeepsDeviceObject + ?Sized> KeepsDeviceObject for &T {
    fn device_object(&self) -> PDEVICE_OBJECT {
        (**self).device_object()
    }
}

// SAFETY: a borrow of a handle keeps what the handle keeps, for as long.
unsafe impl<T: KeepsDriverObject + ?Sized> KeepsDriverObject for &T {
    fn driver_object(&self) -> PDRIVER_OBJECT {
        (**self).driver_object()
    }
}

/// `ExInitializeWorkItem`: an inline in C, so not a kernel export.
///
/// Performs the same three stores as the C macro: `WorkerRoutine`, `Parameter`,
/// and `List.Flink = NULL` (never `Blink`).
///
/// # Safety
///
/// `Item` must be valid for writes and not currently queued.
#[inline]
pub unsafe fn ExInitializeWorkItem(
    Item: *mut WORK_QUEUE_ITEM,
    Routine: PWORKER_THREAD_ROUTINE,
    Context: *mut c_void,
) {
    // SAFETY: `Item` points to a `WORK_QUEUE_ITEM` (this fn's contract), so
    // its `WorkerRoutine` field is inside that allocation; `&raw mut` names
    // the field without a reference to memory that may be uninitialized.
    let routine = unsafe { &raw mut (*Item).WorkerRoutine };
    // SAFETY: `routine` is a field of `*Item`, which is valid for writes, and
    // aligned as the field; a raw write neither reads nor drops the old value.
    unsafe { routine.write(Routine) };
    // SAFETY: `Item` points to a `WORK_QUEUE_ITEM`, so its `Parameter` field
    // is inside that allocation; no reference is made.
    let parameter = unsafe { &raw mut (*Item).Parameter };
    // SAFETY: `parameter` is a field of `*Item`, valid for writes and aligned.
    unsafe { parameter.write(Context) };
    // SAFETY: `Item` points to a `WORK_QUEUE_ITEM`, whose `List` entry is
    // inline, so `List.Flink` is inside that allocation; no reference is made.
    let flink = unsafe { &raw mut (*Item).List.Flink };
    // SAFETY: `flink` is a field of `*Item`, valid for writes and aligned.
    unsafe { flink.write(core::ptr::null_mut()) };
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(size_of::<LIST_ENTRY>() == 16);
    assert!(offset_of!(LIST_ENTRY, Flink) == 0);
    assert!(offset_of!(LIST_ENTRY, Blink) == 8);
    assert!(size_of::<WORK_QUEUE_ITEM>() == 32);
    assert!(align_of::<WORK_QUEUE_ITEM>() == 8);
    assert!(offset_of!(WORK_QUEUE_ITEM, List) == 0x00);
    assert!(offset_of!(WORK_QUEUE_ITEM, WorkerRoutine) == 0x10);
    assert!(offset_of!(WORK_QUEUE_ITEM, Parameter) == 0x18);
    assert!(size_of::<WORK_QUEUE_TYPE>() == 4);
    assert!(size_of::<PWORKER_THREAD_ROUTINE>() == 8);
    assert!(size_of::<PIO_WORKITEM_ROUTINE>() == 8);
    assert!(size_of::<PIO_WORKITEM_ROUTINE_EX>() == 8);
    assert!(size_of::<EX_RUNDOWN_REF>() == 8);
    // wdm.h's objects on x64 and arm64 (`dt nt!_DEVICE_OBJECT`, `_DRIVER_OBJECT`).
    assert!(offset_of!(DEVICE_OBJECT, DriverObject) == 0x08);
    assert!(offset_of!(DEVICE_OBJECT, Flags) == 0x30);
    assert!(offset_of!(DEVICE_OBJECT, DeviceExtension) == 0x40);
    assert!(offset_of!(DEVICE_OBJECT, StackSize) == 0x4C);
    assert!(offset_of!(DRIVER_OBJECT, DeviceObject) == 0x08);
    assert!(offset_of!(DRIVER_OBJECT, DriverExtension) == 0x30);
    assert!(offset_of!(DRIVER_OBJECT, DriverName) == 0x38);
    assert!(offset_of!(DRIVER_OBJECT, DriverUnload) == 0x68);
    assert!(offset_of!(DRIVER_OBJECT, MajorFunction) == 0x70);
    assert!(size_of::<DRIVER_OBJECT>() == 0x150);
};

#[cfg(target_pointer_width = "32")]
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<LIST_ENTRY>() == 8);
    assert!(size_of::<WORK_QUEUE_ITEM>() == 16);
    assert!(offset_of!(WORK_QUEUE_ITEM, WorkerRoutine) == 8);
    assert!(offset_of!(WORK_QUEUE_ITEM, Parameter) == 12);
    assert!(size_of::<EX_RUNDOWN_REF>() == 4);
    // wdm.h's objects on x86 (`dt nt!_DEVICE_OBJECT`, `_DRIVER_OBJECT`).
    assert!(offset_of!(DEVICE_OBJECT, DriverObject) == 0x08);
    assert!(offset_of!(DEVICE_OBJECT, Flags) == 0x1C);
    assert!(offset_of!(DEVICE_OBJECT, DeviceExtension) == 0x28);
    assert!(offset_of!(DEVICE_OBJECT, StackSize) == 0x30);
    assert!(offset_of!(DRIVER_OBJECT, DeviceObject) == 0x04);
    assert!(offset_of!(DRIVER_OBJECT, DriverExtension) == 0x18);
    assert!(offset_of!(DRIVER_OBJECT, DriverName) == 0x1C);
    assert!(offset_of!(DRIVER_OBJECT, DriverUnload) == 0x34);
    assert!(offset_of!(DRIVER_OBJECT, MajorFunction) == 0x38);
    assert!(size_of::<DRIVER_OBJECT>() == 0xA8);
};
