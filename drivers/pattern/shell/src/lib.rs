//! The sensor driver's shell: the kernel's entry points, each converting what
//! the kernel passes into ntwork's types and calling `sensor-core`. In a
//! windows-drivers-rs driver this crate is the only one that names wdk-sys
//! types; here `ntwork::ffi` (and `kernel.rs`) stand where wdk-sys would,
//! with the wdk-sys name beside each. Built for the Windows driver targets
//! and linked into `sensor.sys` by `.ci/shell`; the host cannot run it
//! (`docs/driver-layout.md`).
//!
//! A WDM driver without its IRP handling, as `drivers/wdm` is: a PnP driver
//! also attaches its device (`IoAttachDeviceToDeviceStack`), handles
//! `IRP_MJ_PNP`, and tears the device down at `IRP_MN_REMOVE_DEVICE`; this
//! one tears its devices down in DriverUnload.

#![no_std]

extern crate alloc;

mod kernel;

use alloc::sync::Arc;
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering};

use ntwork::ffi::{
    FILE_DEVICE_UNKNOWN, IoCreateDevice, IoDeleteDevice, NTSTATUS, PDEVICE_OBJECT, PDRIVER_OBJECT,
    STATUS_SUCCESS, ULONG, UNICODE_STRING,
};
use ntwork::irql::{Dispatch, Passive};
use ntwork::{DeviceObject, DriverObject};
use sensor_core::Sensor;

use kernel::{
    DO_DEVICE_INITIALIZING, DRIVER_EXTENSION, KDPC, KTIMER, KeCancelTimer, KeFlushQueuedDpcs,
    KeInitializeDpc, KeInitializeTimer, KeQueryInterruptTimePrecise, KeSetTimerEx,
};

/// The global allocator of the core's `Arc`s: nonpaged pool (wdk-alloc's
/// `WdkAllocator` in a windows-drivers-rs driver).
#[global_allocator]
static ALLOCATOR: driver_support::PoolAllocator = driver_support::PoolAllocator;

/// The sampling period: the timer's DPC runs every 10 ms.
const PERIOD_MS: i32 = 10;

/// The device extension: the timer and DPC the kernel writes, the last tick,
/// and the core's state. The I/O manager allocates it with the device, in
/// nonpaged memory, zeroed, and frees it at `IoDeleteDevice` without running
/// a destructor: `remove_devices` takes the `Sensor` out first.
///
/// # Invariants
///
/// Written whole by `add_device` before the timer is set; then `sensor` is
/// only read (by the DPC) until `remove_devices` has cancelled the timer and
/// flushed the DPCs, and only that takes it.
#[repr(C)]
struct DeviceExtension {
    timer: KTIMER,
    dpc: KDPC,
    /// The interrupt time (100 ns units) at the last tick.
    last_tick: AtomicU64,
    sensor: Option<Arc<Sensor>>,
}

/// The image's entry point (`/ENTRY:DriverEntry`).
///
/// With wdk-sys the signature is `(driver: wdk_sys::PDRIVER_OBJECT,
/// registry_path: wdk_sys::PCUNICODE_STRING)` and the conversion is
/// `DriverObject::from_raw(driver.cast())`: both crates declare wdm.h's
/// `DRIVER_OBJECT`, so the pointer is the same address of the same C struct,
/// and only the cast between the two Rust names is new. Its safety is
/// `from_raw`'s contract, the same with either crate.
///
/// # Safety
///
/// Called once by the I/O manager with the driver object, at PASSIVE_LEVEL.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn DriverEntry(
    driver: PDRIVER_OBJECT,
    _registry_path: *mut UNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: the I/O manager passes a live driver object with its
    // extension (wdm.h's layouts), which DriverEntry may fill in.
    let extension = unsafe { (*driver).DriverExtension.cast::<DRIVER_EXTENSION>() };
    // SAFETY: that extension, ours to write in DriverEntry.
    unsafe { (*extension).AddDevice = Some(add_device) };
    // The shell's device teardown. Set before the core's `driver_entry`,
    // which makes ntwork's routine the DriverUnload and calls this one after
    // it; nothing may store a DriverUnload after that call.
    // SAFETY: a field of the live driver object, written in DriverEntry.
    unsafe { (*driver).DriverUnload = Some(remove_devices) };
    // wdk-sys: `DriverObject::from_raw(driver.cast())`.
    // SAFETY: this driver's object, alive until its DriverUnload returned;
    // nothing below stores another routine in `DriverUnload`.
    let driver = unsafe { DriverObject::from_raw(driver) };
    // SAFETY: DriverEntry runs at PASSIVE_LEVEL; the proof lives for the call.
    let mut irql = unsafe { Passive::assume() };
    match sensor_core::driver_entry(driver, &mut irql) {
        Ok(()) => STATUS_SUCCESS,
        // A failed DriverEntry is unloaded without DriverUnload: the core
        // queued nothing and freed what it allocated; no device exists yet.
        Err(status) => status,
    }
}

/// AddDevice: the functional device object, the core's state in its
/// extension, then the timer. With wdk-sys the parameters are
/// `wdk_sys::PDRIVER_OBJECT` and `wdk_sys::PDEVICE_OBJECT`, and the calls
/// below are `wdk_sys::ntddk::IoCreateDevice` and friends.
///
/// # Safety
///
/// Called by the PnP manager with this driver's object and a PDO, at
/// PASSIVE_LEVEL.
unsafe extern "system" fn add_device(driver: PDRIVER_OBJECT, _pdo: PDEVICE_OBJECT) -> NTSTATUS {
    let mut fdo: PDEVICE_OBJECT = ptr::null_mut();
    // SAFETY: a live driver object; `fdo` is valid for the write.
    let status = unsafe {
        IoCreateDevice(
            driver,
            size_of::<DeviceExtension>() as ULONG,
            ptr::null_mut(),
            FILE_DEVICE_UNKNOWN,
            0,
            0,
            &mut fdo,
        )
    };
    if status != STATUS_SUCCESS {
        return status;
    }
    // wdk-sys: `DeviceObject::from_raw(fdo.cast())`, as for the driver.
    // SAFETY: the device this driver just created (not the bus driver's PDO);
    // deleted only by `remove_devices`, after its `Sensor` is gone.
    let device = unsafe { DeviceObject::from_raw(fdo) };
    // SAFETY: AddDevice runs at PASSIVE_LEVEL; the proof lives for the call.
    let irql = unsafe { Passive::assume() };
    let sensor = match sensor_core::device_added(device, &irql) {
        Ok(sensor) => sensor,
        Err(status) => {
            // SAFETY: created above; no timer set, nothing in its extension.
            unsafe { IoDeleteDevice(fdo) };
            return status;
        }
    };
    let now = interrupt_time();
    // SAFETY: a field of the device just created.
    let extension = unsafe { (*fdo).DeviceExtension.cast::<DeviceExtension>() };
    // The extension follows the object at pool alignment (8 or 16 bytes).
    debug_assert!(extension.is_aligned());
    // SAFETY: the fresh device's extension, sized and aligned for a
    // `DeviceExtension`, written whole before anything else can reach it
    // (the invariants).
    unsafe {
        extension.write(DeviceExtension {
            timer: KTIMER::zeroed(),
            dpc: KDPC::zeroed(),
            last_tick: AtomicU64::new(now),
            sensor: Some(sensor),
        })
    };
    // SAFETY: a field of that extension; only its address is taken.
    let timer = unsafe { &raw mut (*extension).timer };
    // SAFETY: another field of that extension; only its address is taken.
    let dpc = unsafe { &raw mut (*extension).dpc };
    // SAFETY: the extension's DPC storage, nonpaged and alive until
    // `IoDeleteDevice`; the context is this device, which outlives every
    // run of the DPC (`remove_devices` flushes them first).
    unsafe { KeInitializeDpc(dpc, Some(sample_tick), fdo.cast()) };
    // SAFETY: the extension's timer storage, as above.
    unsafe { KeInitializeTimer(timer) };
    // The first tick one period from now (relative: negative, 100 ns units).
    let due = -i64::from(PERIOD_MS) * 10_000;
    // SAFETY: the timer and DPC initialized above; `remove_devices` cancels
    // the timer and flushes the DPC before the extension goes.
    unsafe { KeSetTimerEx(timer, due, PERIOD_MS, dpc) };
    // SAFETY: a field of the device this routine created.
    unsafe { (*fdo).Flags &= !DO_DEVICE_INITIALIZING };
    STATUS_SUCCESS
}

/// The interrupt time, in 100 ns units.
fn interrupt_time() -> u64 {
    let mut counter = 0;
    // SAFETY: `counter` is valid for the write; callable at any IRQL.
    unsafe { KeQueryInterruptTimePrecise(&mut counter) }
}

/// The timer's DPC (`KDEFERRED_ROUTINE`), at DISPATCH_LEVEL: the reading is
/// the time since the last tick, in microseconds (the timer's jitter
/// shows in it), standing in for a value read from the device.
///
/// # Safety
///
/// Called by the kernel for the DPC `add_device` initialized, with its
/// context: the device, whose extension lives until `remove_devices` has
/// flushed this routine's runs.
unsafe extern "system" fn sample_tick(
    _dpc: *mut KDPC,
    context: *mut c_void,
    _argument1: *mut c_void,
    _argument2: *mut c_void,
) {
    let fdo: PDEVICE_OBJECT = context.cast();
    // SAFETY: the context is the live device (this routine's contract).
    let extension = unsafe { (*fdo).DeviceExtension.cast::<DeviceExtension>() };
    // SAFETY: a `DeviceExtension` written by `add_device` before the timer
    // was set; shared for this call only (`remove_devices` takes the sensor
    // after the DPCs are flushed).
    let extension = unsafe { &*extension };
    let Some(sensor) = &extension.sensor else {
        return;
    };
    let now = interrupt_time();
    let last = extension.last_tick.swap(now, Ordering::Relaxed);
    let micros = now.saturating_sub(last) / 10;
    // SAFETY: the kernel calls a DPC routine at DISPATCH_LEVEL; the proof
    // lives for this call.
    let mut irql = unsafe { Dispatch::assume() };
    let _ = sensor_core::dpc(sensor, u32::try_from(micros).unwrap_or(u32::MAX), &mut irql);
}

/// The shell's DriverUnload, which ntwork's calls after the core's rundown
/// was waited for and the core's `unload` ran: for each device, stop its
/// timer and DPC, hand its sensor to the core's teardown, delete it.
///
/// # Safety
///
/// Called once, at PASSIVE_LEVEL, by ntwork's DriverUnload with this
/// driver's object.
unsafe extern "system" fn remove_devices(driver: PDRIVER_OBJECT) {
    // SAFETY: DriverUnload runs at PASSIVE_LEVEL; the proof lives for the call.
    let mut irql = unsafe { Passive::assume() };
    // First every timer, then one flush: no DPC of this driver runs after it.
    // SAFETY: the driver's device list; nothing adds a device during unload.
    let mut next = unsafe { (*driver).DeviceObject };
    while !next.is_null() {
        // SAFETY: a live device of this driver.
        let extension = unsafe { (*next).DeviceExtension.cast::<DeviceExtension>() };
        // SAFETY: its `DeviceExtension`, written by `add_device` (a failed
        // AddDevice deleted its device); only the field's address is taken.
        let timer = unsafe { &raw mut (*extension).timer };
        // SAFETY: the timer `add_device` initialized and set.
        unsafe { KeCancelTimer(timer) };
        // SAFETY: a live device of this driver; its `NextDevice` is read
        // before any device is deleted.
        next = unsafe { (*next).NextDevice };
    }
    // SAFETY: PASSIVE_LEVEL; no precondition beyond it.
    unsafe { KeFlushQueuedDpcs() };
    // SAFETY: the device list, as above; each is read before it is deleted.
    let mut next = unsafe { (*driver).DeviceObject };
    while !next.is_null() {
        let device = next;
        // SAFETY: a live device of this driver.
        next = unsafe { (*device).NextDevice };
        // SAFETY: a field of the live device.
        let extension = unsafe { (*device).DeviceExtension.cast::<DeviceExtension>() };
        // SAFETY: its `DeviceExtension`; the timer is cancelled and the DPCs
        // are flushed, so nothing else reaches the sensor (the invariants).
        let sensor = unsafe { (*extension).sensor.take() };
        if let Some(sensor) = sensor {
            sensor_core::device_removed(sensor, &mut irql);
        }
        // SAFETY: created by `add_device`; its extension holds nothing that
        // needs dropping any more.
        unsafe { IoDeleteDevice(device) };
    }
}
