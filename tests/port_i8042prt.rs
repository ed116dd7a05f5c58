//! The work items of a real PS/2 keyboard port driver, ported to ntwork and
//! run on the host executive.
//!
//! Source: ReactOS, `drivers/input/i8042prt` (repository `reactos/reactos`):
//! `i8042prt.c` (`i8042AddDevice`, `i8042SendHookWorkItem`), `keyboard.c`
//! (`i8042KbdInternalDeviceControl`, `HandlePowerKeys`, `i8042KbdDpcRoutine`,
//! `i8042PowerWorkItem`, `i8042KbdDeviceControl`), `pnp.c`
//! (`i8042RemoveDevice`) and `i8042prt.h` (`I8042_KEYBOARD_EXTENSION`).
//!
//! The driver keeps two `PIO_WORKITEM`s in the keyboard's device extension:
//! `PowerWorkItem`, queued from the keyboard DPC when a power, sleep or wake
//! key is pressed (the interface registration and the IRP completion it
//! triggers need `PASSIVE_LEVEL`), and `DebugWorkItem`, allocated and never
//! queued. A third, one-shot item carries the `IOCTL_INTERNAL_KEYBOARD_CONNECT`
//! IRP to a worker, which sends the hook IOCTL down the stack and completes
//! the connect IRP.
//!
//! | C | ntwork |
//! |---|---|
//! | `IoCreateDevice(.., sizeof(ext), ..)`, `Fdo->DeviceExtension` filled in (`i8042AddDevice`) | `Device::create_with(driver, DeviceOptions, irql, \|fdo\| ..)` building `KeyboardExtension` |
//! | `DeviceExtension->PowerWorkItem = IoAllocateWorkItem(DeviceObject)` (at `IOCTL_INTERNAL_KEYBOARD_CONNECT`) | `ReusableIoWorkItem::<power_work>::new(fdo, irql)` inside `create_with` (at AddDevice: see below) |
//! | `DeviceExtension->DebugWorkItem = IoAllocateWorkItem(DeviceObject)` | `ReusableIoWorkItem::<debug_work>::new(fdo, irql)`: a routine type is needed even though nothing queues it |
//! | `goto cleanup; IoFreeWorkItem(..)` on a failed allocation | `?` in the initializer: the items made so far and the device are freed by their drops |
//! | AddDevice returns, the FDO lives on in the device stack | `Device::into_raw()` |
//! | `DeviceObject->DeviceExtension` in a DPC / dispatch routine / work item | `DeviceObject::extension::<KeyboardExtension>(irql)`, `None` once the remove started |
//! | `IoAllocateWorkItem` + `IoQueueWorkItem(WorkItem, i8042SendHookWorkItem, DelayedWorkQueue, WorkItemData)` | `send_hook::queue(device, irp, WorkQueue::Delayed, irql)`: the item is allocated, owned by the queue and freed after the routine |
//! | `IoFreeWorkItem(WorkItemData->WorkItem); ExFreePoolWithTag(WorkItemData)` at the end of the routine | nothing: the context (`Irp`) is moved into the routine and dropped by it |
//! | `KeInitializeDpc(&DpcKeyboard, i8042KbdDpcRoutine, DeviceExtension)`, DPC at `DISPATCH_LEVEL` | `kbd_dpc(device, .., &mut Dispatch)`, run under `ntwork_host::at_dispatch_level` with `Dispatch::on_host()` (a driver: `unsafe { Dispatch::assume() }`) |
//! | `IoQueueWorkItem(PowerWorkItem, i8042PowerWorkItem, DelayedWorkQueue, DeviceExtension)` | `ext.power_work_item.queue((), WorkQueue::Delayed, irql)`; a second press before the run gets `NotQueued::AlreadyQueued` (in C: the active item queued again, bug check 0xE4) |
//! | `InterlockedExchangePointer(&PowerIrp, NULL)` / `InterlockedCompareExchangePointer` | `SpinLock<Option<Irp>>` |
//! | `InterlockedExchange(&LastPowerKey, ..)`, `NewCaps \|= ..` | `AtomicU32::swap` / `fetch_or` |
//! | `i8042RemoveDevice`: `IoDetachDevice`, `IoDeleteDevice` (the items are never freed, a queued `PowerWorkItem` is not waited for) | `Device::from_raw`, `flush` of both items, the pending button IRP cancelled, `Device::delete` (drops the extension once, freeing the items) |
//! | `DriverEntry` / AddDevice / IRP_MJ_PNP at `PASSIVE_LEVEL` | `Passive::on_host()` (a driver: `unsafe { Passive::assume() }`) |
//!
//! Deviations from the C: the two reusable items are allocated at AddDevice,
//! not at the connect IOCTL, because a `Device<E>`'s extension is built once
//! (late allocation would need `SpinLock<Option<ReusableIoWorkItem<..>>>`,
//! which `lazy_items_behind_a_spin_lock` below shows); the hook IOCTL sent
//! down the stack, the device-interface calls and the IRPs are modelled
//! (`Irp` records its completion), since the host has no device stack.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ntwork::ffi::{
    FILE_DEVICE_SECURE_OPEN, FILE_DEVICE_UNKNOWN, NTSTATUS, PDEVICE_OBJECT, STATUS_CANCELLED,
    STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_PENDING, STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
};
use ntwork::irql::{Dispatch, Passive};
use ntwork::{
    Device, DeviceObject, DeviceOptions, DriverObject, NotQueued, ReusableIoWorkItem, SpinLock,
    WorkQueue, work_item,
};
use ntwork_host::{self as host, Executive, FailurePlan, FaultSite};

// ---- Constants the C takes from ntddk.h, ntddkbd.h and poclass.h ----------

/// `KEYBOARD_INPUT_DATA.Flags`.
const KEY_BREAK: u16 = 1;
const KEY_E0: u16 = 2;
/// Make codes of the power keys (after an E0 prefix).
const KEYBOARD_POWER_CODE: u16 = 0x5E;
const KEYBOARD_SLEEP_CODE: u16 = 0x5F;
const KEYBOARD_WAKE_CODE: u16 = 0x63;
/// `SYS_BUTTON_*` capabilities and events.
const SYS_BUTTON_POWER: u32 = 0x1;
const SYS_BUTTON_SLEEP: u32 = 0x2;
const SYS_BUTTON_WAKE: u32 = 0x8000_0000;

// ---- A modelled IRP --------------------------------------------------------

/// What `IoCompleteRequest` recorded: `(irp id, status, value)` (the value
/// the driver wrote to the system buffer, or `Information`).
type Completions = Arc<Mutex<Vec<(u32, NTSTATUS, u32)>>>;

/// An IRP the driver holds: completed exactly once, or the test fails when
/// it is dropped uncompleted (in C: a hung request).
struct Irp {
    id: u32,
    log: Completions,
    completed: bool,
}

impl Irp {
    fn new(id: u32, log: &Completions) -> Self {
        Self {
            id,
            log: Arc::clone(log),
            completed: false,
        }
    }

    /// `IoCompleteRequest`.
    fn complete(mut self, status: NTSTATUS, value: u32) {
        self.completed = true;
        self.log.lock().unwrap().push((self.id, status, value));
    }
}

impl Drop for Irp {
    fn drop(&mut self) {
        if !self.completed && !std::thread::panicking() {
            panic!("IRP {} dropped without IoCompleteRequest", self.id);
        }
    }
}

// ---- The device extension ---------------------------------------------------

/// `I8042_KEYBOARD_EXTENSION`, the parts the work items touch.
struct KeyboardExtension {
    /// `Common.Type`: Unknown until the class driver connects.
    connected: AtomicBool,
    /// Keys handed to the class service by the DPC.
    keys_delivered: AtomicU32,

    // Power keys items.
    reported_caps: AtomicU32,
    new_caps: AtomicU32,
    last_power_key: AtomicU32,
    /// `PowerInterfaceName.MaximumLength != 0`: the interface was registered.
    interface_registered: AtomicBool,
    /// `IoSetDeviceInterfaceState` calls (disable + enable on a caps change).
    interface_state_changes: AtomicU32,
    power_work_item: ReusableIoWorkItem<power_work>,
    /// The pending `IOCTL_GET_SYS_BUTTON_EVENT`.
    power_irp: SpinLock<Option<Irp>>,
    /// Runs of `power_work` that found the extension.
    power_runs: AtomicU32,

    // Debug items.
    debug_work_item: ReusableIoWorkItem<debug_work>,

    /// Counts the extension's drops (the test's check).
    drops: Arc<AtomicUsize>,
}

impl Drop for KeyboardExtension {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

// ---- Work-item routines -----------------------------------------------------

/// `i8042SendHookWorkItem`: at `PASSIVE_LEVEL`, sends
/// `IOCTL_INTERNAL_I8042_HOOK_KEYBOARD` down the stack (modelled: the hook
/// is "sent" when the extension is there) and completes the connect IRP. The
/// C frees its item and its context block at the end; here the queue frees
/// the item and the context is dropped by the move.
#[work_item(device)]
fn send_hook(device: &DeviceObject, connect: Irp, irql: &mut Passive<'_>) {
    let status = match device.extension::<KeyboardExtension>(irql) {
        Some(_keyboard) => STATUS_SUCCESS,
        // The device is being removed: nothing to hook.
        None => STATUS_UNSUCCESSFUL,
    };
    connect.complete(status, 0);
}

/// `i8042PowerWorkItem`: at `PASSIVE_LEVEL`, (re)registers the sys-button
/// interface when the capabilities changed, then completes the waiting
/// `IOCTL_GET_SYS_BUTTON_EVENT` with the last power key.
#[work_item(device)]
fn power_work(device: &DeviceObject, _: (), irql: &mut Passive<'_>) {
    // The C gets the extension as its context; here it is reached through
    // the device, and is None once the remove has started.
    let Some(kbd) = device.extension::<KeyboardExtension>(irql) else {
        return;
    };
    kbd.power_runs.fetch_add(1, Ordering::SeqCst);

    if kbd.new_caps.load(Ordering::SeqCst) != kbd.reported_caps.load(Ordering::SeqCst) {
        // Capabilities changed: the waiting IRP fails, the interface is
        // re-announced so the power manager asks for the caps again.
        let waiting = kbd.power_irp.lock(irql, |slot, _| slot.take());
        if let Some(irp) = waiting {
            irp.complete(STATUS_UNSUCCESSFUL, 0);
        }
        if kbd.interface_registered.swap(true, Ordering::SeqCst) {
            // IoSetDeviceInterfaceState(FALSE)
            kbd.interface_state_changes.fetch_add(1, Ordering::SeqCst);
        } // else IoRegisterDeviceInterface(GUID_DEVICE_SYS_BUTTON)
        // IoSetDeviceInterfaceState(TRUE)
        kbd.interface_state_changes.fetch_add(1, Ordering::SeqCst);
    }

    let waiting = kbd.power_irp.lock(irql, |slot, _| slot.take());
    if let Some(irp) = waiting {
        let key = kbd.last_power_key.swap(0, Ordering::SeqCst);
        irp.complete(STATUS_SUCCESS, key);
    }
}

/// The routine of `DebugWorkItem`. The C allocates that item and never
/// queues it; a `ReusableIoWorkItem` needs its routine's type all the same.
#[work_item(device)]
fn debug_work(device: &DeviceObject, _make_code: u16) {
    let _ = device;
}

// ---- Entry points -----------------------------------------------------------

/// `i8042AddDevice`, at `PASSIVE_LEVEL`: the FDO and its extension.
fn add_device(
    driver: &DriverObject,
    drops: &Arc<AtomicUsize>,
    irql: &Passive<'_>,
) -> Result<PDEVICE_OBJECT, NTSTATUS> {
    let options = DeviceOptions::new(FILE_DEVICE_UNKNOWN).characteristics(FILE_DEVICE_SECURE_OPEN);
    let device = Device::create_with(driver, options, irql, |fdo| {
        Ok::<_, NTSTATUS>(KeyboardExtension {
            connected: AtomicBool::new(false),
            keys_delivered: AtomicU32::new(0),
            reported_caps: AtomicU32::new(0),
            new_caps: AtomicU32::new(0),
            last_power_key: AtomicU32::new(0),
            interface_registered: AtomicBool::new(false),
            interface_state_changes: AtomicU32::new(0),
            power_work_item: ReusableIoWorkItem::new(fdo, irql)?,
            power_irp: SpinLock::new(None),
            power_runs: AtomicU32::new(0),
            debug_work_item: ReusableIoWorkItem::new(fdo, irql)?,
            drops: Arc::clone(drops),
        })
    })?;
    // IoAttachDeviceToDeviceStackSafe, DO_DEVICE_INITIALIZING cleared: not
    // modelled. The FDO now belongs to the device stack until the remove.
    Ok(device.into_raw())
}

/// `i8042KbdInternalDeviceControl`, `IOCTL_INTERNAL_KEYBOARD_CONNECT`, at
/// `PASSIVE_LEVEL`: marks the FDO a keyboard and hands the IRP to a worker.
/// Returns the IRP's status as the dispatch routine would.
fn keyboard_connect(device: &DeviceObject, irp: Irp, irql: &Passive<'_>) -> NTSTATUS {
    let Some(kbd) = device.extension::<KeyboardExtension>(irql) else {
        irp.complete(STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    };
    kbd.connected.store(true, Ordering::SeqCst);
    drop(kbd);
    // IoMarkIrpPending; IoAllocateWorkItem + IoQueueWorkItem.
    match send_hook::queue(device, irp, WorkQueue::Delayed, irql) {
        Ok(()) => STATUS_PENDING,
        Err(failed) => {
            // IoAllocateWorkItem failed; the IRP comes back with the error.
            let status = failed.status();
            failed.into_inner().complete(status, 0);
            status
        }
    }
}

/// One key the ISR put in the buffer.
#[derive(Clone, Copy)]
struct KeyboardInputData {
    make_code: u16,
    flags: u16,
}

/// What the DPC did with a key (the test's view).
#[derive(Debug, PartialEq, Eq)]
enum Dpc {
    /// An ordinary key, given to the class service.
    Delivered,
    /// A power key pressed: the power work item was queued.
    PowerQueued,
    /// A power key pressed while the work item was pending: that run will
    /// report it (C queues the active item again: bug check 0xE4).
    PowerCoalesced,
    /// A power key released: nothing to do.
    PowerReleased,
    /// The device is being removed.
    Gone,
}

/// `i8042KbdDpcRoutine` with `HandlePowerKeys`, at `DISPATCH_LEVEL`.
fn kbd_dpc(device: &DeviceObject, input: KeyboardInputData, irql: &mut Dispatch<'_>) -> Dpc {
    let Some(kbd) = device.extension::<KeyboardExtension>(irql) else {
        return Dpc::Gone;
    };
    let key_press = match input.make_code {
        _ if input.flags & KEY_E0 == 0 => None,
        KEYBOARD_POWER_CODE => Some(SYS_BUTTON_POWER),
        KEYBOARD_SLEEP_CODE => Some(SYS_BUTTON_SLEEP),
        KEYBOARD_WAKE_CODE => Some(SYS_BUTTON_WAKE),
        _ => None,
    };
    let Some(key_press) = key_press else {
        // Not a power key: the class service gets it.
        kbd.keys_delivered.fetch_add(1, Ordering::SeqCst);
        return Dpc::Delivered;
    };
    if input.flags & KEY_BREAK != 0 {
        return Dpc::PowerReleased;
    }
    // Our work can only be done at PASSIVE_LEVEL: queue the work item.
    kbd.new_caps.fetch_or(key_press, Ordering::SeqCst);
    kbd.last_power_key.store(key_press, Ordering::SeqCst);
    match kbd.power_work_item.queue((), WorkQueue::Delayed, irql) {
        Ok(()) => Dpc::PowerQueued,
        Err(refused) if refused.reason == NotQueued::AlreadyQueued => Dpc::PowerCoalesced,
        // Flushing: the device is being stopped.
        Err(_) => Dpc::Gone,
    }
}

/// `i8042KbdDeviceControl`, `IOCTL_GET_SYS_BUTTON_CAPS`.
fn get_sys_button_caps(device: &DeviceObject, irql: &Passive<'_>) -> Option<u32> {
    let kbd = device.extension::<KeyboardExtension>(irql)?;
    let caps = kbd.new_caps.load(Ordering::SeqCst);
    kbd.reported_caps.store(caps, Ordering::SeqCst);
    Some(caps)
}

/// `i8042KbdDeviceControl`, `IOCTL_GET_SYS_BUTTON_EVENT`: completes at once
/// with a key pressed meanwhile, else pends the IRP for the work item. At
/// `PASSIVE_LEVEL` (any level up to DISPATCH would do).
fn get_sys_button_event(device: &DeviceObject, irp: Irp, irql: &mut Passive<'_>) -> NTSTATUS {
    let Some(kbd) = device.extension::<KeyboardExtension>(irql) else {
        irp.complete(STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    };
    // Pended, or a key to complete with, or a second pending IRP (refused).
    let outcome = kbd.power_irp.lock(irql, |slot, _| {
        if slot.is_some() {
            return Err(irp);
        }
        match kbd.last_power_key.swap(0, Ordering::SeqCst) {
            0 => {
                *slot = Some(irp); // IoMarkIrpPending
                Ok(None)
            }
            key => Ok(Some((irp, key))),
        }
    });
    // Completed after the lock is released, as C does.
    match outcome {
        Ok(None) => STATUS_PENDING,
        Ok(Some((irp, key))) => {
            irp.complete(STATUS_SUCCESS, key);
            STATUS_SUCCESS
        }
        Err(irp) => {
            irp.complete(STATUS_INVALID_PARAMETER, 0);
            STATUS_INVALID_PARAMETER
        }
    }
}

/// What the remove saw (the test's view).
struct Removed {
    power_runs: u32,
    keys_delivered: u32,
    interface_state_changes: u32,
}

/// `IRP_MN_REMOVE_DEVICE` (`i8042RemoveDevice`), at `PASSIVE_LEVEL`. The C
/// forwards the IRP, detaches and deletes; it neither waits for a queued
/// `PowerWorkItem` nor frees the items. Here both items are flushed, the
/// pending button IRP is cancelled, and the delete drops the extension,
/// which frees the items.
fn remove_device(fdo: PDEVICE_OBJECT, flush: bool, irql: &mut Passive<'_>) -> Removed {
    // SAFETY: `add_device` gave this device up with `into_raw`; the PnP
    // manager removes it once, and the caller uses `fdo` no more.
    let device = unsafe { Device::<KeyboardExtension>::from_raw(fdo) };
    let kbd = device.extension();
    if flush {
        kbd.power_work_item.flush(irql);
        kbd.debug_work_item.flush(irql);
    }
    let waiting = kbd.power_irp.lock(irql, |slot, _| slot.take());
    if let Some(irp) = waiting {
        irp.complete(STATUS_CANCELLED, 0);
    }
    let removed = Removed {
        power_runs: kbd.power_runs.load(Ordering::SeqCst),
        keys_delivered: kbd.keys_delivered.load(Ordering::SeqCst),
        interface_state_changes: kbd.interface_state_changes.load(Ordering::SeqCst),
    };
    device.delete(irql);
    removed
}

// ---- Tests ------------------------------------------------------------------

fn press(make_code: u16) -> KeyboardInputData {
    KeyboardInputData {
        make_code,
        flags: KEY_E0,
    }
}

fn release(make_code: u16) -> KeyboardInputData {
    KeyboardInputData {
        make_code,
        flags: KEY_E0 | KEY_BREAK,
    }
}

/// Runs the DPC for `input` as the kernel would, at `DISPATCH_LEVEL`.
fn dpc(device: &DeviceObject, input: KeyboardInputData) -> Dpc {
    host::at_dispatch_level(|| kbd_dpc(device, input, &mut Dispatch::on_host()))
}

/// No `IO_WORKITEM` and no pool left, and no bug check.
fn assert_nothing_left(exec: &Executive) {
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn power_keys_complete_the_button_event_at_passive_level() {
    let exec = Executive::manual();
    let driver = exec.load_driver("i8042prt.sys");
    let mut irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));
    let log = Completions::default();

    let fdo = add_device(DriverObject::of(&driver), &drops, &irql).expect("AddDevice");
    let host_device = driver.device(fdo).expect("the FDO");
    let device = DeviceObject::of(&host_device);
    assert_eq!(
        exec.io_work_items_outstanding(),
        3,
        "PowerWorkItem, DebugWorkItem and the device's drop item"
    );

    // The class driver connects: the IRP pends until the hook work item runs.
    assert_eq!(
        keyboard_connect(device, Irp::new(1, &log), &irql),
        STATUS_PENDING
    );
    assert_eq!(
        exec.io_work_items_outstanding(),
        4,
        "the one-shot hook item"
    );
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(*log.lock().unwrap(), [(1, STATUS_SUCCESS, 0)]);
    assert_eq!(
        exec.io_work_items_outstanding(),
        3,
        "the hook item was freed after its routine"
    );

    // The power manager waits for a button event.
    assert_eq!(
        get_sys_button_event(device, Irp::new(2, &log), &mut irql),
        STATUS_PENDING
    );
    assert_eq!(
        get_sys_button_event(device, Irp::new(3, &log), &mut irql),
        STATUS_INVALID_PARAMETER,
        "one pending IRP at a time"
    );

    // Keys arrive. A second press of the power key before the work item
    // ran is coalesced; in C it queues the active item again.
    assert_eq!(dpc(device, press(0x1E)), Dpc::Delivered);
    assert_eq!(dpc(device, press(KEYBOARD_POWER_CODE)), Dpc::PowerQueued);
    assert_eq!(
        dpc(device, release(KEYBOARD_POWER_CODE)),
        Dpc::PowerReleased
    );
    assert_eq!(dpc(device, press(KEYBOARD_POWER_CODE)), Dpc::PowerCoalesced);
    assert_eq!(exec.pending(), 1);

    // The run: the caps changed (none reported yet), so the waiting IRP fails
    // and the interface is registered and enabled.
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        log.lock().unwrap()[1..],
        [
            (3, STATUS_INVALID_PARAMETER, 0),
            (2, STATUS_UNSUCCESSFUL, 0)
        ]
    );

    // The power manager reads the caps, then asks again: the key pressed
    // meanwhile completes the IRP at once.
    assert_eq!(get_sys_button_caps(device, &irql), Some(SYS_BUTTON_POWER));
    assert_eq!(
        get_sys_button_event(device, Irp::new(4, &log), &mut irql),
        STATUS_SUCCESS
    );
    assert_eq!(
        log.lock().unwrap().last(),
        Some(&(4, STATUS_SUCCESS, SYS_BUTTON_POWER))
    );

    // Next press with the caps unchanged: the work item completes the
    // pending IRP directly.
    assert_eq!(
        get_sys_button_event(device, Irp::new(5, &log), &mut irql),
        STATUS_PENDING
    );
    assert_eq!(dpc(device, press(KEYBOARD_POWER_CODE)), Dpc::PowerQueued);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        log.lock().unwrap().last(),
        Some(&(5, STATUS_SUCCESS, SYS_BUTTON_POWER))
    );

    // A new key (sleep) changes the caps: disable + enable the interface.
    assert_eq!(dpc(device, press(KEYBOARD_SLEEP_CODE)), Dpc::PowerQueued);
    assert_eq!(exec.run_until_idle(), 1);

    // A button-event IRP is pending at remove: it is cancelled.
    assert_eq!(
        get_sys_button_event(device, Irp::new(6, &log), &mut irql),
        STATUS_SUCCESS,
        "the sleep key pressed meanwhile"
    );
    assert_eq!(
        get_sys_button_event(device, Irp::new(7, &log), &mut irql),
        STATUS_PENDING
    );

    let removed = remove_device(fdo, true, &mut irql);
    assert_eq!(removed.power_runs, 3, "one run per successful queue");
    assert_eq!(removed.keys_delivered, 1);
    assert_eq!(removed.interface_state_changes, 1 + 2);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the extension dropped once"
    );
    assert_eq!(
        *log.lock().unwrap(),
        [
            (1, STATUS_SUCCESS, 0),
            (3, STATUS_INVALID_PARAMETER, 0),
            (2, STATUS_UNSUCCESSFUL, 0),
            (4, STATUS_SUCCESS, SYS_BUTTON_POWER),
            (5, STATUS_SUCCESS, SYS_BUTTON_POWER),
            (6, STATUS_SUCCESS, SYS_BUTTON_SLEEP),
            (7, STATUS_CANCELLED, 0),
        ]
    );

    // After the remove the device answers nothing, and nothing is left.
    assert_eq!(dpc(device, press(KEYBOARD_POWER_CODE)), Dpc::Gone);
    assert!(device.extension::<KeyboardExtension>(&irql).is_none());
    assert_nothing_left(&exec);
    drop(host_device);
    driver.unload().expect("DriverUnload");
}

/// The C remove path as written: no wait for a queued `PowerWorkItem`. With
/// ntwork the queue keeps the device object (and the item) alive until the
/// routine has run; the routine finds no extension.
#[test]
fn remove_without_flush_while_the_power_item_is_queued() {
    let exec = Executive::manual();
    let driver = exec.load_driver("i8042prt-noflush.sys");
    let mut irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));

    let fdo = add_device(DriverObject::of(&driver), &drops, &irql).unwrap();
    let host_device = driver.device(fdo).unwrap();
    let device = DeviceObject::of(&host_device);
    assert_eq!(dpc(device, press(KEYBOARD_WAKE_CODE)), Dpc::PowerQueued);
    assert_eq!(
        host_device.reference_count(),
        4,
        "the creator's, one per reusable item, the queued item's"
    );

    let removed = remove_device(fdo, false, &mut irql);
    assert_eq!(removed.power_runs, 0);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(
        exec.io_work_items_outstanding(),
        1,
        "the queued PowerWorkItem outlives its owner; DebugWorkItem is freed"
    );
    assert_eq!(
        host_device.reference_count(),
        1,
        "deleted, but the queue still references the device"
    );
    assert!(!host_device.is_freed());

    assert_eq!(
        exec.run_until_idle(),
        1,
        "the routine ran, found no extension"
    );
    assert_eq!(host_device.reference_count(), 0);
    assert!(host_device.is_freed(), "the last reference was the queue's");
    assert_nothing_left(&exec);
    drop(host_device);
    driver.unload().expect("DriverUnload");
}

/// `goto cleanup` in C: the second `IoAllocateWorkItem` fails, the first item
/// and the device are freed. Here the `?` in the initializer does it.
#[test]
fn add_device_fails_cleanly_when_the_second_item_cannot_be_allocated() {
    let exec = Executive::manual();
    let driver = exec.load_driver("i8042prt-lowres.sys");
    let irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));

    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Nth(2));
    let status = add_device(DriverObject::of(&driver), &drops, &irql).unwrap_err();

    assert_eq!(status, STATUS_INSUFFICIENT_RESOURCES);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "no extension was built");
    assert_nothing_left(&exec);
    driver.unload().expect("DriverUnload: no device left");
}

/// Key bursts from several "processors" on the threaded executive: every
/// successful queue is one run, and the remove waits for the last one.
#[test]
fn power_key_bursts_on_worker_threads() {
    let exec = Executive::new();
    let driver = exec.load_driver("i8042prt-threads.sys");
    let mut irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));

    let fdo = add_device(DriverObject::of(&driver), &drops, &irql).unwrap();
    let host_device = driver.device(fdo).unwrap();
    let queued = AtomicU32::new(0);
    let coalesced = AtomicU32::new(0);

    std::thread::scope(|s| {
        for cpu in 0..2 {
            let (exec, host_device, queued, coalesced) = (&exec, &host_device, &queued, &coalesced);
            s.spawn(move || {
                let _bound = exec.enter();
                let device = DeviceObject::of(host_device);
                for n in 0..500u32 {
                    let code = [KEYBOARD_POWER_CODE, KEYBOARD_SLEEP_CODE][(n as usize + cpu) % 2];
                    match dpc(device, press(code)) {
                        Dpc::PowerQueued => queued.fetch_add(1, Ordering::SeqCst),
                        Dpc::PowerCoalesced => coalesced.fetch_add(1, Ordering::SeqCst),
                        other => panic!("unexpected {other:?}"),
                    };
                    if n % 50 == 0 {
                        std::thread::yield_now();
                    }
                }
            });
        }
    });

    let removed = remove_device(fdo, true, &mut irql);
    let queued = queued.load(Ordering::SeqCst);
    assert_eq!(queued + coalesced.load(Ordering::SeqCst), 1000);
    assert!(queued >= 1);
    assert_eq!(removed.power_runs, queued, "one run per successful queue");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    exec.wait_idle();
    assert_nothing_left(&exec);
    drop(host_device);
    driver.unload().expect("DriverUnload");
}

// ---- The C's own order: items allocated at the connect IOCTL ----------------

/// The extension as the C has it at AddDevice: no items yet. They are added
/// at `IOCTL_INTERNAL_KEYBOARD_CONNECT`, so they sit behind a lock.
struct LateExtension {
    power_work_item: SpinLock<Option<ReusableIoWorkItem<late_power_work>>>,
    runs: AtomicU32,
}

#[work_item(device)]
fn late_power_work(device: &DeviceObject, key: u32, irql: &Passive<'_>) {
    if let Some(ext) = device.extension::<LateExtension>(irql) {
        ext.runs.fetch_add(key, Ordering::SeqCst);
    }
}

/// C's order works, at the cost of a lock in the DPC's queue path and a
/// take-then-flush at remove (the flush cannot happen under the spin lock).
#[test]
fn lazy_items_behind_a_spin_lock() {
    let exec = Executive::manual();
    let driver = exec.load_driver("i8042prt-late.sys");
    let mut irql = Passive::on_host();

    // AddDevice.
    let late = LateExtension {
        power_work_item: SpinLock::new(None),
        runs: AtomicU32::new(0),
    };
    let device = Device::create(
        DriverObject::of(&driver),
        late,
        DeviceOptions::new(FILE_DEVICE_UNKNOWN),
        &irql,
    )
    .unwrap();

    // The DPC before the connect: no item, nothing to queue.
    let queue = |key: u32| {
        host::at_dispatch_level(|| {
            let mut dispatch = Dispatch::on_host();
            let ext = device
                .object()
                .extension::<LateExtension>(&dispatch)
                .unwrap();
            ext.power_work_item.lock(&mut dispatch, |slot, irql| {
                slot.as_ref()
                    .map(|item| item.queue(key, WorkQueue::Delayed, irql).is_ok())
            })
        })
    };
    assert_eq!(queue(1), None);

    // IOCTL_INTERNAL_KEYBOARD_CONNECT, at PASSIVE_LEVEL.
    let item = ReusableIoWorkItem::new(device.object(), &irql).unwrap();
    device
        .extension()
        .power_work_item
        .lock(&mut irql, |slot, _| *slot = Some(item));

    assert_eq!(queue(2), Some(true));
    assert_eq!(queue(3), Some(false), "already queued");
    assert_eq!(exec.run_until_idle(), 1);

    // Remove: take the item out under the lock, flush it outside.
    let item = device
        .extension()
        .power_work_item
        .lock(&mut irql, |slot, _| slot.take());
    if let Some(item) = &item {
        item.flush(&irql);
    }
    drop(item);
    assert_eq!(device.extension().runs.load(Ordering::SeqCst), 2);
    device.delete(&irql);
    assert_nothing_left(&exec);
    driver.unload().expect("DriverUnload");
}
