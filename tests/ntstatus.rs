//! ntwork's errors as driver code meets them: dispatch-routine-shaped
//! functions return `Result<(), NTSTATUS>` and use `?` on every public error
//! type of the crate; what the I/O manager gets (`complete`) is the status a C
//! driver returns for the same failure. Each error is made by the real call
//! on the host executive (fault injection where it is low resources).

use std::sync::atomic::{AtomicU32, Ordering};

use ntwork::ffi::wdf::{STATUS_OBJECT_NAME_EXISTS, STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL};
use ntwork::ffi::{
    FILE_DEVICE_UNKNOWN, NTSTATUS, STATUS_INSUFFICIENT_RESOURCES, STATUS_OBJECT_NAME_COLLISION,
    STATUS_SUCCESS,
};
use ntwork::irql::Passive;
use ntwork::wdf::{Serialization, WdfDevice};
use ntwork::{
    Device, DeviceObject, DeviceOptions, DriverObject, IoWorkItem, ReusableExWorkItem,
    ReusableIoWorkItem, Rundown, WorkQueue, work_item,
};
use ntwork_host::wdf::WdfDeviceConfig;
use ntwork_host::{Executive, FailurePlan, FaultSite};

/// `STATUS_DEVICE_BUSY` (warning severity).
const STATUS_DEVICE_BUSY: NTSTATUS = 0x8000_0011_u32 as NTSTATUS;
/// `STATUS_INVALID_DEVICE_STATE`.
const STATUS_INVALID_DEVICE_STATE: NTSTATUS = 0xC000_0184_u32 as NTSTATUS;
/// `STATUS_DELETE_PENDING`.
const STATUS_DELETE_PENDING: NTSTATUS = 0xC000_0056_u32 as NTSTATUS;

/// What the I/O manager gets: the IRP's final status.
fn complete(result: Result<(), NTSTATUS>) -> NTSTATUS {
    result.err().unwrap_or(STATUS_SUCCESS)
}

#[work_item(device)]
fn poll(_device: &DeviceObject, _attempt: u32) {}

#[work_item(device)]
fn rescan(_device: &DeviceObject, _generation: u32) {}

#[work_item]
fn log_event(_event: u32) {}

#[work_item]
fn tick(count: &AtomicU32) {
    count.fetch_add(1, Ordering::Relaxed);
}

#[work_item(wdf)]
fn drain(_count: &AtomicU32) {}

/// IRP_MJ_DEVICE_CONTROL "start polling": an item, tried now
/// (`AllocError`, `TryQueueError`).
fn start_polling(device: &DeviceObject, irql: &Passive<'_>) -> Result<(), NTSTATUS> {
    let item = IoWorkItem::<poll>::new(device, irql)?;
    item.try_queue(1, WorkQueue::Delayed, irql)?;
    Ok(())
}

/// "rescan": the port's reusable item (`Refused`).
fn start_rescan(item: &ReusableIoWorkItem<rescan>, irql: &Passive<'_>) -> Result<(), NTSTATUS> {
    item.queue(1, WorkQueue::Delayed, irql)?;
    Ok(())
}

/// "log": Ex work counted in the driver's rundown (`QueueError`).
fn log(rundown: &'static Rundown, irql: &Passive<'_>) -> Result<(), NTSTATUS> {
    log_event::queue(rundown, 7, WorkQueue::Delayed, irql)?;
    Ok(())
}

/// "tick": a static reusable Ex item (`NotQueued`).
fn start_tick(item: &'static ReusableExWorkItem<tick>, irql: &Passive<'_>) -> Result<(), NTSTATUS> {
    item.queue_static(WorkQueue::Delayed, irql)?;
    Ok(())
}

/// DriverEntry (`SetUnloadError`, `OpenError`).
fn driver_entry(
    driver: &DriverObject,
    rundown: &'static Rundown,
    irql: &Passive<'_>,
) -> Result<(), NTSTATUS> {
    driver.set_unload(|_, _| {}, irql)?;
    rundown.open(driver, irql)?;
    Ok(())
}

/// Opens a rundown as a driver whose DriverEntry forgot `set_unload`.
fn open_only(
    driver: &DriverObject,
    rundown: &'static Rundown,
    irql: &Passive<'_>,
) -> Result<(), NTSTATUS> {
    rundown.open(driver, irql)?;
    Ok(())
}

/// AddDevice (`CreateDeviceError`).
fn add_device(driver: &DriverObject, irql: &Passive<'_>) -> Result<(), NTSTATUS> {
    let device = Device::create(
        driver,
        AtomicU32::new(0),
        DeviceOptions::new(FILE_DEVICE_UNKNOWN),
        irql,
    )?;
    device.delete(irql);
    Ok(())
}

/// EvtDriverDeviceAdd: the item kept in the device (`CreateError`,
/// `KeepError`).
fn kmdf_device_add(
    device: &WdfDevice,
    serialization: Serialization,
    irql: &Passive<'_>,
) -> Result<(), NTSTATUS> {
    drain::create(device, AtomicU32::new(0), serialization, irql)?.keep_in_parent(irql)?;
    Ok(())
}

#[test]
fn io_item_errors_are_insufficient_resources_and_device_busy() {
    let exec = Executive::manual();
    let driver = exec.load_driver("io-status.sys");
    let host_device = driver.create_device();
    let device = DeviceObject::of(&host_device);
    let irql = Passive::on_host();

    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Next(1));
    assert_eq!(
        complete(start_polling(device, &irql)),
        STATUS_INSUFFICIENT_RESOURCES,
        "AllocError"
    );
    exec.fail_allocations(FaultSite::TryQueue, FailurePlan::Next(1));
    assert_eq!(
        complete(start_polling(device, &irql)),
        STATUS_DEVICE_BUSY,
        "TryQueueError"
    );
    assert_eq!(complete(start_polling(device, &irql)), STATUS_SUCCESS);

    let item = ReusableIoWorkItem::<rescan>::new(device, &irql).unwrap();
    assert_eq!(complete(start_rescan(&item, &irql)), STATUS_SUCCESS);
    assert_eq!(
        complete(start_rescan(&item, &irql)),
        STATUS_DEVICE_BUSY,
        "Refused (AlreadyQueued)"
    );
    assert_eq!(exec.run_until_idle(), 2);
    drop(item);
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}

static LOG: Rundown = Rundown::new();
static TICKS: Rundown = Rundown::new();
static TICK: ReusableExWorkItem<tick> = ReusableExWorkItem::new(&TICKS, AtomicU32::new(0));

#[test]
fn ex_errors_follow_the_rundown_and_the_pool() {
    let exec = Executive::manual();
    let host_driver = exec.load_driver("ex-status.sys");
    let driver = DriverObject::of(&host_driver);
    let irql = Passive::on_host();

    assert_eq!(
        complete(log(&LOG, &irql)),
        STATUS_INVALID_DEVICE_STATE,
        "QueueError::NotOpen"
    );
    assert_eq!(
        complete(start_tick(&TICK, &irql)),
        STATUS_INVALID_DEVICE_STATE,
        "NotQueued::NotOpen"
    );
    assert_eq!(complete(driver_entry(driver, &LOG, &irql)), STATUS_SUCCESS);
    TICKS.open(driver, &irql).unwrap();
    assert_eq!(
        complete(driver_entry(driver, &LOG, &irql)),
        STATUS_OBJECT_NAME_COLLISION,
        "SetUnloadError::AlreadySet"
    );

    exec.fail_allocations(FaultSite::Pool, FailurePlan::Next(1));
    assert_eq!(
        complete(log(&LOG, &irql)),
        STATUS_INSUFFICIENT_RESOURCES,
        "QueueError::InsufficientResources"
    );
    assert_eq!(complete(log(&LOG, &irql)), STATUS_SUCCESS);
    assert_eq!(complete(start_tick(&TICK, &irql)), STATUS_SUCCESS);
    assert_eq!(
        complete(start_tick(&TICK, &irql)),
        STATUS_DEVICE_BUSY,
        "NotQueued::AlreadyQueued"
    );
    assert_eq!(exec.run_until_idle(), 2);

    host_driver.unload().unwrap();
    assert_eq!(
        complete(log(&LOG, &irql)),
        STATUS_DELETE_PENDING,
        "QueueError::Unloading"
    );
    assert_eq!(
        complete(start_tick(&TICK, &irql)),
        STATUS_DELETE_PENDING,
        "NotQueued::Unloading"
    );
    assert_eq!(exec.bug_check(), None);
}

static UNWAITED: Rundown = Rundown::new();

#[test]
fn a_rundown_nobody_waits_for_and_a_device_that_cannot_be_created() {
    let exec = Executive::manual();
    let host_driver = exec.load_driver("entry-status.sys");
    let driver = DriverObject::of(&host_driver);
    let irql = Passive::on_host();
    assert_eq!(
        complete(open_only(driver, &UNWAITED, &irql)),
        STATUS_INVALID_DEVICE_STATE,
        "OpenError::NoUnload"
    );

    exec.fail_allocations(FaultSite::IoCreateDevice, FailurePlan::Next(1));
    assert_eq!(
        complete(add_device(driver, &irql)),
        STATUS_INSUFFICIENT_RESOURCES,
        "CreateDeviceError"
    );
    assert_eq!(complete(add_device(driver, &irql)), STATUS_SUCCESS);
    assert_eq!(exec.bug_check(), None);
    host_driver.unload().unwrap();
}

#[test]
fn kmdf_errors_are_the_frameworks_statuses() {
    let exec = Executive::manual();
    let driver = exec.load_driver("kmdf-status.sys");
    // A dispatch-level device with device-scope synchronization: an
    // automatically serialized item is refused.
    let handle = driver.create_wdf_device(WdfDeviceConfig {
        passive: false,
        synchronized: true,
        cleanup: None,
    });
    let device = WdfDevice::of(&handle);
    let irql = Passive::on_host();
    assert_eq!(
        complete(kmdf_device_add(device, Serialization::Automatic, &irql)),
        STATUS_WDF_INCOMPATIBLE_EXECUTION_LEVEL,
        "wdf::CreateError"
    );
    assert_eq!(
        complete(kmdf_device_add(device, Serialization::None, &irql)),
        STATUS_SUCCESS
    );
    assert_eq!(
        complete(kmdf_device_add(device, Serialization::None, &irql)),
        STATUS_OBJECT_NAME_EXISTS,
        "wdf::KeepError: one kept item per routine per device"
    );
    handle.delete();
    assert_eq!(exec.bug_check(), None);
    driver.unload().unwrap();
}
