//! The WMI re-registration work item of the SCSI disk class driver, ported to
//! ntwork and run on the host executive.
//!
//! Source: microsoft/Windows-driver-samples, `storage/class/disk/src/diskwmi.c`
//! (`DiskInfoExceptionCheck`, `DiskInfoExceptionComplete`,
//! `DiskPostReregisterRequest`, `DiskReregWorker`, the globals `DiskReregHead`,
//! `DiskReregSpinlock`, `DiskReregWorkItems`) and `storage/class/disk/src/disk.h`
//! (`DISKREREGREQUEST`).
//!
//! When a disk starts, the driver sends an asynchronous MODE SENSE for the
//! informational-exceptions page. Its completion routine runs at
//! DISPATCH_LEVEL; if the page says SCSI SMART is usable, the disk's WMI GUIDs
//! must be registered again (`IoWMIRegistrationControl`, PASSIVE_LEVEL). The
//! completion pushes a request (the disk, its IRP, and the remove lock the IRP
//! holds) on a driver-wide stack. Every completion allocates an `IO_WORKITEM`
//! for its disk, but only the one that moves the counter from 0 to 1 queues
//! it; the others free theirs at once. The one worker drains the stack,
//! one request per count, and frees its own item (passed as its context).
//!
//! | C | ntwork |
//! |---|---|
//! | `SINGLE_LIST_ENTRY DiskReregHead` + `KSPIN_LOCK DiskReregSpinlock`, `ExInterlockedPush/PopEntryList` | `static REREG_HEAD: SpinLock<Vec<ReregRequest>>` (push / pop: the C list is a stack) |
//! | `LONG DiskReregWorkItems`, `InterlockedIncrement` / `InterlockedDecrement` | `static REREG_WORK_ITEMS: AtomicI32`, `fetch_add` / `fetch_sub` |
//! | `DISKREREGREQUEST { Next, DeviceObject, Irp }` from `ExAllocatePool2` | `ReregRequest { device: ARef<DeviceObject>, irp: ModeSenseIrp }` in the `Vec` (std's allocator) |
//! | `IoAllocateWorkItem(DeviceObject)` in the completion routine | `disk_rereg_worker::new(device, irql)` with the completion's `&mut Dispatch` |
//! | `IoQueueWorkItem(workItem, DiskReregWorker, DelayedWorkQueue, workItem)` | `item.queue((), WorkQueue::Delayed, irql)`: the item need not be its own context |
//! | `IoFreeWorkItem(workItem)` when a worker already runs | `drop(item)` |
//! | `IoFreeWorkItem((PIO_WORKITEM)Context)` at the end of `DiskReregWorker` | nothing: the routine's item is freed when it returns |
//! | `ClassAcquireRemoveLock(deviceObject, irp)` in `DiskInfoExceptionCheck`, `isRemoved` -> `STATUS_DEVICE_DOES_NOT_EXIST` | `device.extension::<DiskData>(irql)` (`None` once the delete started) `.into_held()`: the IRP keeps the `HeldExtension<DiskData>` |
//! | `ClassReleaseRemoveLock(deviceObject, irp)` | the IRP's drop drops its `HeldExtension` |
//! | `ClassReleaseRemoveLockAndWait` + `IoDeleteDevice` at `IRP_MN_REMOVE_DEVICE` | `Device::delete(irql)`: refuses new guards, waits for every held one, drops `DiskData`, deletes |
//! | `IoFreeMdl(irp->MdlAddress); IoFreeIrp(irp)` | dropping the `ModeSenseIrp` |
//! | `freeLockAndIrp = FALSE` once the request is posted | `post_reregister_request` takes the IRP; on failure it hands it back, and the completion frees it |
//! | `IoWMIRegistrationControl(deviceObject, WMIREG_ACTION_UPDATE_GUIDS)` | `wmi_registration_control(device, irql)`, which takes the routine's `&Passive` proof (modelled) |
//! | `IO_WORKITEM_ROUTINE DiskReregWorker(DevObject, Context)` | `#[work_item(device)] fn disk_rereg_worker(_device, irql)`: no context parameter, so the context is `()` |
//! | `PAGED_CODE()` in `DiskReregWorker` | the routine's `irql: &mut Passive<'_>` (`&mut`: it takes the `SpinLock`) |
//!
//! Deviations: the port driver below the disk, the SRB, the MDL and the IRP
//! are modelled (`Port` keeps the MODE SENSE requests sent down; the test
//! completes them as the port driver would, at DISPATCH_LEVEL);
//! `ClassInterpretSenseInfo` is reduced to "retry while retries are left";
//! `IoWMIRegistrationControl` records the device it was called for;
//! the remove lock's count, which C keeps private too, is mirrored in
//! `DiskData::irps_holding` (the IRP counts itself when it takes its
//! `HeldExtension`, and uncounts itself in its drop) so that the tests can
//! assert it;
//! the request's pool allocation cannot fail (it is a `Vec` push), so only the
//! `IoAllocateWorkItem` failure is injected.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ntwork::ffi::{
    FILE_DEVICE_UNKNOWN, NTSTATUS, STATUS_INSUFFICIENT_RESOURCES, STATUS_PENDING, STATUS_SUCCESS,
};
use ntwork::irql::{Dispatch, Passive};
use ntwork::{
    ARef, Device, DeviceObject, DeviceOptions, DriverObject, HeldExtension, SpinLock, WorkQueue,
    work_item,
};
use ntwork_host::{Executive, FailurePlan, FaultSite, at_dispatch_level};

// ---- Constants the C takes from scsi.h, srb.h, ntstatus.h, disk.h ----------

/// `MODE_PAGE_FAULT_REPORTING`: the informational-exceptions control page.
const MODE_PAGE_FAULT_REPORTING: u8 = 0x1C;
/// `SRB_STATUS_SUCCESS`, `SRB_STATUS_ERROR`, `SRB_STATUS_DATA_OVERRUN`.
const SRB_STATUS_SUCCESS: u8 = 0x01;
const SRB_STATUS_ERROR: u8 = 0x04;
const SRB_STATUS_DATA_OVERRUN: u8 = 0x12;
/// `MAXIMUM_RETRIES` (classpnp.h).
const MAXIMUM_RETRIES: u32 = 4;
/// `STATUS_INTERNAL_ERROR`: what the worker records for an empty stack.
const STATUS_INTERNAL_ERROR: NTSTATUS = 0xC000_00E5_u32 as i32;
/// `STATUS_DEVICE_DOES_NOT_EXIST`: `DiskInfoExceptionCheck` on a removed disk.
const STATUS_DEVICE_DOES_NOT_EXIST: NTSTATUS = 0xC000_00C0_u32 as i32;

/// `FAILURE_PREDICTION_METHOD` (ntddstor.h), as stored in `DISK_DATA`.
const FAILURE_PREDICTION_NONE: u8 = 0;
const FAILURE_PREDICTION_SENSE: u8 = 3;

// ---- The modelled IRP, and the port driver below the disk -------------------

/// The MODE SENSE IRP the disk built in `DiskInfoExceptionCheck`: it holds the
/// disk's remove lock (its extension, held) until it is freed (`IoFreeIrp`,
/// here its drop), so the completion and the worker reach the disk through it.
struct ModeSenseIrp {
    /// `ClassAcquireRemoveLock(DeviceObject, irp)`: released when the IRP
    /// drops, after its `Drop` below ran.
    disk: HeldExtension<DiskData>,
    /// `irpStack->Parameters.Others.Argument4`: retries left.
    retries: u32,
}

impl ModeSenseIrp {
    /// `IoAllocateIrp` and `ClassAcquireRemoveLock(DeviceObject, irp)`.
    fn new(disk: HeldExtension<DiskData>) -> Self {
        disk.irps_holding.fetch_add(1, Ordering::SeqCst);
        Self {
            disk,
            retries: MAXIMUM_RETRIES,
        }
    }
}

impl Drop for ModeSenseIrp {
    fn drop(&mut self) {
        // Both before `self.disk` drops (the remove may then delete the disk).
        self.disk.irps_holding.fetch_sub(1, Ordering::SeqCst);
        self.disk.freed_irps.fetch_add(1, Ordering::SeqCst);
    }
}

/// What the port driver returns for a MODE SENSE: the SRB status and the
/// informational-exceptions page, if the target has one.
#[derive(Clone, Copy)]
struct SrbResult {
    srb_status: u8,
    page: Option<InfoExceptionsPage>,
}

/// `MODE_INFO_EXCEPTIONS`: the two fields the driver reads.
#[derive(Clone, Copy)]
struct InfoExceptionsPage {
    page_code: u8,
    dexcpt: bool,
    report_method: u8,
}

/// The lower device: MODE SENSE requests sent down and not yet completed.
#[derive(Default)]
struct Port {
    sent: Mutex<Vec<ModeSenseIrp>>,
}

impl Port {
    /// `IoCallDriver(LowerDeviceObject, irp)`.
    fn call_driver(&self, irp: ModeSenseIrp) {
        self.sent.lock().unwrap().push(irp);
    }

    fn take(&self) -> ModeSenseIrp {
        self.sent
            .lock()
            .unwrap()
            .pop()
            .expect("a MODE SENSE sent down")
    }
}

// ---- The disk's extension (FUNCTIONAL_DEVICE_EXTENSION + DISK_DATA) --------

struct DiskData {
    /// The MODE SENSE IRPs alive, each holding the remove lock: the lock's
    /// count, for the test (`Device::delete` waits for the same guards).
    irps_holding: AtomicU32,
    port: Arc<Port>,
    /// `DISK_DATA.ScsiInfoExceptionsSupported`.
    scsi_info_exceptions_supported: AtomicBool,
    /// `DISK_DATA.FailurePredictionCapability`.
    failure_prediction_capability: AtomicU8,
    /// `DISK_DATA.FailurePredictionEnabled`.
    failure_prediction_enabled: AtomicBool,
    freed_irps: AtomicUsize,
    /// Counts the extension's drops (exactly one per disk).
    drops: Arc<AtomicUsize>,
}

impl Drop for DiskData {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

// ---- The driver's globals (diskwmi.c) ---------------------------------------

/// `DISKREREGREQUEST`: a disk waiting for its GUIDs to be registered again.
/// The device is counted (`ARef`, C: `ObReferenceObject`), and its IRP holds
/// its remove lock (a `HeldExtension<DiskData>`).
struct ReregRequest {
    device: ARef<DeviceObject>,
    irp: ModeSenseIrp,
}

/// `DiskReregHead` under `DiskReregSpinlock`.
static REREG_HEAD: SpinLock<Vec<ReregRequest>> = SpinLock::new(Vec::new());
/// `DiskReregWorkItems`: requests posted and not yet processed.
static REREG_WORK_ITEMS: AtomicI32 = AtomicI32::new(0);
/// Times the worker found the stack empty (C: `NT_ASSERTMSG`).
static EMPTY_POPS: AtomicU32 = AtomicU32::new(0);

// ---- IoWMIRegistrationControl (modelled) ------------------------------------

/// The devices `IoWMIRegistrationControl(.., WMIREG_ACTION_UPDATE_GUIDS)` was
/// called for, in order.
static WMI_UPDATES: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// Something a test runs inside the next registration (a completion on
/// another processor, a removal), taken once.
type Hook = Box<dyn FnOnce(&DeviceObject, &Passive<'_>) + Send>;
static WMI_HOOK: Mutex<Option<Hook>> = Mutex::new(None);

/// Runs once in the worker after it released a request (lock and IRP): the
/// thread preempted there, as a scheduler may. Test instrumentation.
static RELEASE_HOOK: Mutex<Option<Box<dyn FnOnce() + Send>>> = Mutex::new(None);

/// `IoWMIRegistrationControl`: PASSIVE_LEVEL only, which the proof states.
fn wmi_registration_control(device: &DeviceObject, irql: &Passive<'_>) -> NTSTATUS {
    assert_eq!(ntwork_host::current_irql(), 0, "PASSIVE_LEVEL");
    let hook = WMI_HOOK.lock().unwrap().take();
    if let Some(hook) = hook {
        hook(device, irql);
    }
    WMI_UPDATES.lock().unwrap().push(device.as_raw() as usize);
    STATUS_SUCCESS
}

// ---- The work item ------------------------------------------------------------

/// `DiskReregWorker`: drains the stack, one request per count, at
/// PASSIVE_LEVEL. Bound to the disk whose completion queued it; the requests
/// may be other disks', each kept by its own reference and remove lock.
#[work_item(device)]
fn disk_rereg_worker(_device: &DeviceObject, irql: &mut Passive<'_>) {
    loop {
        let request = REREG_HEAD.lock(irql, |head, _| head.pop());
        let status = match request {
            Some(ReregRequest { device, irp }) => {
                let status = wmi_registration_control(&device, irql);
                // ClassReleaseRemoveLock, IoFreeMdl, IoFreeIrp, FREE_POOL.
                drop(irp);
                drop(device);
                status
            }
            None => {
                EMPTY_POPS.fetch_add(1, Ordering::SeqCst);
                STATUS_INTERNAL_ERROR
            }
        };
        let _ = status; // C: a trace on failure
        let preempted = RELEASE_HOOK.lock().unwrap().take();
        if let Some(preempted) = preempted {
            preempted();
        }
        if REREG_WORK_ITEMS.fetch_sub(1, Ordering::SeqCst) == 1 {
            break;
        }
    }
} // the item is freed here (C: IoFreeWorkItem(Context))

/// `DiskPostReregisterRequest`, from the completion routine at
/// DISPATCH_LEVEL. On failure the IRP comes back: the caller still owns it
/// (and the remove lock it holds).
fn post_reregister_request(
    device: &DeviceObject,
    irp: ModeSenseIrp,
    irql: &mut Dispatch<'_>,
) -> Result<(), (NTSTATUS, ModeSenseIrp)> {
    let item = match disk_rereg_worker::new(device, irql) {
        Ok(item) => item,
        Err(e) => return Err((e.status(), irp)),
    };
    let request = ReregRequest {
        device: ARef::from(device),
        irp,
    };
    REREG_HEAD.lock(irql, |head, _| head.push(request));
    if REREG_WORK_ITEMS.fetch_add(1, Ordering::SeqCst) == 0 {
        // No worker runs: this one will drain the stack.
        item.queue((), WorkQueue::Delayed, irql);
    } else {
        // A worker runs and will count this request: the item is not needed.
        drop(item);
    }
    Ok(())
}

// ---- The MODE SENSE and its completion ---------------------------------------

/// `DiskInfoExceptionCheck`: acquire the remove lock for the IRP, send the
/// MODE SENSE down, return `STATUS_PENDING`. PASSIVE_LEVEL (start device).
fn info_exception_check(device: &DeviceObject, irql: &Passive<'_>) -> NTSTATUS {
    // ClassAcquireRemoveLock: refused once the remove started (C:
    // `isRemoved`). `None` also stands for "no DiskData on this device",
    // which C cannot be asked.
    let Some(disk) = device.extension::<DiskData>(irql) else {
        return STATUS_DEVICE_DOES_NOT_EXIST;
    };
    let irp = ModeSenseIrp::new(disk.into_held());
    // IoCallDriver(LowerDeviceObject, irp): the IRP takes the guard the
    // port is reached through, so the port is reached by its own `Arc`.
    let port = Arc::clone(&irp.disk.port);
    port.call_driver(irp);
    STATUS_PENDING
}

/// What the completion routine did with the IRP, for the test.
#[derive(Debug, PartialEq, Eq)]
enum Completion {
    /// Sent down again (C: `IoCallDriver`, `STATUS_MORE_PROCESSING_REQUIRED`).
    Retried,
    /// The page is not there, or SMART is not enabled in it: lock and IRP freed.
    NotSmart,
    /// Posted for re-registration: the worker frees lock and IRP.
    Posted,
    /// Re-registration could not be posted: lock and IRP freed here.
    PostFailed(NTSTATUS),
    /// The request failed for good: lock and IRP freed.
    Failed,
}

/// `DiskInfoExceptionComplete`: the IRP's completion routine, at
/// DISPATCH_LEVEL.
fn info_exception_complete(
    device: &DeviceObject,
    mut irp: ModeSenseIrp,
    result: SrbResult,
    irql: &mut Dispatch<'_>,
) -> Completion {
    // The remove lock the IRP holds keeps the extension: the remove waits
    // for it before it deletes the device. (A new `device.extension()` here
    // would be `None` once the remove started, as a new
    // `ClassAcquireRemoveLock` would fail.)
    if result.srb_status != SRB_STATUS_SUCCESS && result.srb_status != SRB_STATUS_DATA_OVERRUN {
        // ClassInterpretSenseInfo, reduced: retry while retries are left.
        if irp.retries > 0 {
            irp.retries -= 1;
            let port = Arc::clone(&irp.disk.port);
            port.call_driver(irp);
            return Completion::Retried;
        }
        return Completion::Failed; // the IRP drops: lock released, IRP freed
    }
    // ClassFindModePage(.., MODE_PAGE_FAULT_REPORTING, ..)
    let Some(page) = result
        .page
        .filter(|page| page.page_code == MODE_PAGE_FAULT_REPORTING)
    else {
        return Completion::NotSmart;
    };
    let disk = &irp.disk;
    disk.scsi_info_exceptions_supported
        .store(true, Ordering::SeqCst);
    if page.dexcpt || !(2..=6).contains(&page.report_method) {
        return Completion::NotSmart;
    }
    disk.failure_prediction_capability
        .store(FAILURE_PREDICTION_SENSE, Ordering::SeqCst);
    disk.failure_prediction_enabled
        .store(true, Ordering::SeqCst);
    match post_reregister_request(device, irp, irql) {
        Ok(()) => Completion::Posted,
        // freeLockAndIrp stays TRUE: the IRP drops here.
        Err((status, _irp)) => Completion::PostFailed(status),
    }
}

// ---- AddDevice, remove, and the test's harness --------------------------------

/// AddDevice for one disk. PASSIVE_LEVEL.
fn add_disk(
    driver: &DriverObject,
    drops: &Arc<AtomicUsize>,
    irql: &Passive<'_>,
) -> Result<Device<DiskData>, NTSTATUS> {
    let disk = DiskData {
        irps_holding: AtomicU32::new(0),
        port: Arc::default(),
        scsi_info_exceptions_supported: AtomicBool::new(false),
        failure_prediction_capability: AtomicU8::new(FAILURE_PREDICTION_NONE),
        failure_prediction_enabled: AtomicBool::new(false),
        freed_irps: AtomicUsize::new(0),
        drops: Arc::clone(drops),
    };
    Ok(Device::create(
        driver,
        disk,
        DeviceOptions::new(FILE_DEVICE_UNKNOWN),
        irql,
    )?)
}

/// `IRP_MN_REMOVE_DEVICE`: `ClassReleaseRemoveLockAndWait`, then
/// `IoDeleteDevice`. The delete refuses new guards, waits for every
/// `HeldExtension` (the IRPs'), drops `DiskData` and deletes the device.
fn remove_disk(disk: Device<DiskData>, irql: &Passive<'_>) {
    disk.delete(irql);
}

/// The disk's remove lock count: its MODE SENSE IRPs alive.
fn held(disk: &Device<DiskData>) -> u32 {
    disk.extension().irps_holding.load(Ordering::SeqCst)
}

/// A page that enables SCSI SMART (DEXCPT clear, MRIE 4).
const SMART_PAGE: SrbResult = SrbResult {
    srb_status: SRB_STATUS_SUCCESS,
    page: Some(InfoExceptionsPage {
        page_code: MODE_PAGE_FAULT_REPORTING,
        dexcpt: false,
        report_method: 4,
    }),
};

/// Completes the disk's pending MODE SENSE as the port driver would, at
/// DISPATCH_LEVEL.
fn complete(disk: &Device<DiskData>, result: SrbResult) -> Completion {
    let irp = disk.extension().port.take();
    let device = disk.object();
    at_dispatch_level(|| info_exception_complete(device, irp, result, &mut Dispatch::on_host()))
}

/// The driver's statics belong to its image: one test at a time.
fn image() -> MutexGuard<'static, ()> {
    static IMAGE: Mutex<()> = Mutex::new(());
    let guard = IMAGE.lock().unwrap_or_else(|e| e.into_inner());
    WMI_UPDATES.lock().unwrap().clear();
    *WMI_HOOK.lock().unwrap() = None;
    *RELEASE_HOOK.lock().unwrap() = None;
    EMPTY_POPS.store(0, Ordering::SeqCst);
    assert_eq!(
        REREG_WORK_ITEMS.load(Ordering::SeqCst),
        0,
        "an earlier test left work"
    );
    guard
}

fn wmi_updates() -> Vec<usize> {
    WMI_UPDATES.lock().unwrap().clone()
}

fn addr(disk: &Device<DiskData>) -> usize {
    disk.object().as_raw() as usize
}

/// No `IO_WORKITEM`, no pool, no bug check, no request left behind.
fn assert_nothing_left(exec: &Executive) {
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(exec.pool_outstanding(), 0);
    assert_eq!(exec.bug_check(), None);
    assert_eq!(REREG_WORK_ITEMS.load(Ordering::SeqCst), 0);
    assert_eq!(EMPTY_POPS.load(Ordering::SeqCst), 0);
}

// ---- Tests ---------------------------------------------------------------------

/// One SMART disk: the completion at DISPATCH_LEVEL queues the worker, which
/// registers the GUIDs again at PASSIVE_LEVEL, once, then frees the IRP, the
/// remove lock and its own item.
#[test]
fn a_smart_disk_is_reregistered_once_at_passive_level() {
    let _image = image();
    let exec = Executive::manual();
    let driver = exec.load_driver("disk.sys");
    let irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));

    let disk = add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice");
    let host_disk = driver.device(disk.object().as_raw()).expect("the FDO");
    let items_at_rest = exec.io_work_items_outstanding(); // the device's drop item

    assert_eq!(info_exception_check(disk.object(), &irql), STATUS_PENDING);
    assert_eq!(held(&disk), 1);

    assert_eq!(complete(&disk, SMART_PAGE), Completion::Posted);
    let ext = disk.extension();
    assert!(ext.scsi_info_exceptions_supported.load(Ordering::SeqCst));
    assert_eq!(
        ext.failure_prediction_capability.load(Ordering::SeqCst),
        FAILURE_PREDICTION_SENSE
    );
    assert!(ext.failure_prediction_enabled.load(Ordering::SeqCst));
    // Nothing registered yet; the IRP and the lock wait for the worker, and
    // the queue plus the request each hold the device.
    assert!(wmi_updates().is_empty());
    assert_eq!(ext.irps_holding.load(Ordering::SeqCst), 1);
    assert_eq!(ext.freed_irps.load(Ordering::SeqCst), 0);
    assert_eq!(exec.pending(), 1);
    assert_eq!(exec.io_work_items_outstanding(), items_at_rest + 1);
    assert_eq!(host_disk.reference_count(), 3, "creator, queue, request");

    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(wmi_updates(), [addr(&disk)]);
    assert_eq!(ext.irps_holding.load(Ordering::SeqCst), 0);
    assert_eq!(ext.freed_irps.load(Ordering::SeqCst), 1);
    assert_eq!(exec.io_work_items_outstanding(), items_at_rest);
    assert_eq!(host_disk.reference_count(), 1);

    remove_disk(disk, &irql);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_nothing_left(&exec);
    drop(host_disk);
    driver.unload().expect("DriverUnload");
    assert!(!exec.is_image_mapped("disk.sys"));
}

/// Without the page, or with SMART disabled in it, nothing is queued and the
/// completion frees the IRP and the lock itself; a failing SRB is retried
/// `MAXIMUM_RETRIES` times, then freed.
#[test]
fn a_disk_without_usable_smart_queues_nothing() {
    let _image = image();
    let exec = Executive::manual();
    let driver = exec.load_driver("disk-nosmart.sys");
    let irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));
    let disk = add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice");
    let items_at_rest = exec.io_work_items_outstanding();
    let ext = disk.extension();

    // No page at all.
    info_exception_check(disk.object(), &irql);
    let no_page = SrbResult {
        srb_status: SRB_STATUS_SUCCESS,
        page: None,
    };
    assert_eq!(complete(&disk, no_page), Completion::NotSmart);
    assert!(!ext.scsi_info_exceptions_supported.load(Ordering::SeqCst));

    // The page, with DEXCPT set: supported, not enabled.
    info_exception_check(disk.object(), &irql);
    let disabled = SrbResult {
        srb_status: SRB_STATUS_DATA_OVERRUN,
        page: Some(InfoExceptionsPage {
            page_code: MODE_PAGE_FAULT_REPORTING,
            dexcpt: true,
            report_method: 4,
        }),
    };
    assert_eq!(complete(&disk, disabled), Completion::NotSmart);
    assert!(ext.scsi_info_exceptions_supported.load(Ordering::SeqCst));
    assert!(!ext.failure_prediction_enabled.load(Ordering::SeqCst));

    // An SRB error: sent down again until the retries run out.
    info_exception_check(disk.object(), &irql);
    let error = SrbResult {
        srb_status: SRB_STATUS_ERROR,
        page: None,
    };
    for _ in 0..MAXIMUM_RETRIES {
        assert_eq!(complete(&disk, error), Completion::Retried);
        assert_eq!(
            ext.irps_holding.load(Ordering::SeqCst),
            1,
            "the retried IRP keeps its lock"
        );
    }
    assert_eq!(complete(&disk, error), Completion::Failed);

    assert_eq!(ext.irps_holding.load(Ordering::SeqCst), 0);
    assert_eq!(ext.freed_irps.load(Ordering::SeqCst), 3);
    assert_eq!(exec.pending(), 0);
    assert_eq!(exec.io_work_items_outstanding(), items_at_rest);
    assert!(wmi_updates().is_empty());

    remove_disk(disk, &irql);
    assert_nothing_left(&exec);
    driver.unload().expect("DriverUnload");
}

/// Three disks complete before any worker runs: three items are allocated,
/// the first is queued, the other two are freed at once; the one run
/// registers all three (the stack pops the last first).
#[test]
fn completions_before_the_worker_runs_share_one_work_item() {
    let _image = image();
    let exec = Executive::manual();
    let driver = exec.load_driver("disk-three.sys");
    let irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));
    let disks: Vec<_> = (0..3)
        .map(|_| add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice"))
        .collect();
    let items_at_rest = exec.io_work_items_outstanding();

    for disk in &disks {
        assert_eq!(info_exception_check(disk.object(), &irql), STATUS_PENDING);
        assert_eq!(complete(disk, SMART_PAGE), Completion::Posted);
    }
    assert_eq!(REREG_WORK_ITEMS.load(Ordering::SeqCst), 3);
    assert_eq!(exec.pending(), 1, "only the 0 -> 1 completion queued");
    assert_eq!(exec.io_work_items_outstanding(), items_at_rest + 1);

    assert_eq!(exec.run_until_idle(), 1, "one run drains the stack");
    assert_eq!(
        wmi_updates(),
        [addr(&disks[2]), addr(&disks[1]), addr(&disks[0])]
    );
    for disk in &disks {
        assert_eq!(held(disk), 0);
        assert_eq!(disk.extension().freed_irps.load(Ordering::SeqCst), 1);
    }
    assert_eq!(exec.io_work_items_outstanding(), items_at_rest);

    for disk in disks {
        remove_disk(disk, &irql);
    }
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_nothing_left(&exec);
    driver.unload().expect("DriverUnload");
}

/// A completion on another processor while the worker registers a disk:
/// the count was not 0, so its item is freed and the running worker takes
/// its request in the same run.
#[test]
fn a_completion_during_the_run_is_drained_by_that_run() {
    let _image = image();
    let exec = Executive::manual();
    let driver = exec.load_driver("disk-during.sys");
    let irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));
    let first = add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice");
    let second = Arc::new(add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice"));
    let items_at_rest = exec.io_work_items_outstanding();

    info_exception_check(first.object(), &irql);
    info_exception_check(second.object(), &irql);
    assert_eq!(complete(&first, SMART_PAGE), Completion::Posted);

    // The hook runs inside the worker's first registration.
    let (seen, completed_meanwhile) = mpsc::channel();
    let other = Arc::clone(&second);
    *WMI_HOOK.lock().unwrap() = Some(Box::new(move |_, _| {
        seen.send(complete(&other, SMART_PAGE)).unwrap();
    }));
    assert_eq!(exec.run_until_idle(), 1, "no second item was queued");
    assert_eq!(completed_meanwhile.recv().unwrap(), Completion::Posted);
    assert_eq!(wmi_updates(), [addr(&first), addr(&second)]);
    assert_eq!(exec.io_work_items_outstanding(), items_at_rest);

    let second = Arc::into_inner(second).expect("the hook dropped its handle");
    remove_disk(first, &irql);
    remove_disk(second, &irql);
    assert_nothing_left(&exec);
    driver.unload().expect("DriverUnload");
}

/// `IoAllocateWorkItem` fails in the completion routine: the status comes
/// back, the completion frees the IRP and the remove lock, nothing is
/// registered; the next disk is served as usual.
#[test]
fn low_resources_in_the_completion_free_the_irp_and_lock_there() {
    let _image = image();
    let exec = Executive::manual();
    let driver = exec.load_driver("disk-lowres.sys");
    let irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));
    let starved = add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice");
    let served = add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice");
    let items_at_rest = exec.io_work_items_outstanding();

    info_exception_check(starved.object(), &irql);
    info_exception_check(served.object(), &irql);
    exec.fail_allocations(FaultSite::IoAllocateWorkItem, FailurePlan::Next(1));
    assert_eq!(
        complete(&starved, SMART_PAGE),
        Completion::PostFailed(STATUS_INSUFFICIENT_RESOURCES)
    );
    let ext = starved.extension();
    assert_eq!(ext.irps_holding.load(Ordering::SeqCst), 0);
    assert_eq!(ext.freed_irps.load(Ordering::SeqCst), 1);
    // As in C, the capability was set before the post failed.
    assert!(ext.failure_prediction_enabled.load(Ordering::SeqCst));
    assert_eq!(REREG_WORK_ITEMS.load(Ordering::SeqCst), 0);
    assert_eq!(exec.pending(), 0);
    assert_eq!(exec.io_work_items_outstanding(), items_at_rest);

    assert_eq!(complete(&served, SMART_PAGE), Completion::Posted);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(wmi_updates(), [addr(&served)]);

    remove_disk(starved, &irql);
    remove_disk(served, &irql);
    assert_nothing_left(&exec);
    driver.unload().expect("DriverUnload");
}

/// The worker's item is bound to the first disk; that disk is removed (its
/// request processed, its lock released) while the same run still serves a
/// second disk. The queue's reference keeps the removed disk's object (and
/// the image) until the routine returns.
#[test]
fn the_worker_outlives_the_removal_of_the_disk_it_is_bound_to() {
    let _image = image();
    let exec = Executive::manual();
    let driver = exec.load_driver("disk-bound.sys");
    let irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));
    let first = add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice");
    let second = Arc::new(add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice"));
    let host_first = driver.device(first.object().as_raw()).expect("the FDO");

    info_exception_check(first.object(), &irql);
    info_exception_check(second.object(), &irql);
    assert_eq!(complete(&first, SMART_PAGE), Completion::Posted);

    // During the first registration, the second disk's completion arrives;
    // during the second, the first disk is removed (its request is done).
    let other = Arc::clone(&second);
    let first_addr = addr(&first);
    let (removed, removed_in_run) = mpsc::channel();
    *WMI_HOOK.lock().unwrap() = Some(Box::new(move |_, _| {
        assert_eq!(complete(&other, SMART_PAGE), Completion::Posted);
        *WMI_HOOK.lock().unwrap() = Some(Box::new(move |device, irql| {
            assert_ne!(
                device.as_raw() as usize,
                first_addr,
                "the second disk's turn"
            );
            remove_disk(first, irql);
            removed.send(()).unwrap();
        }));
    }));
    assert_eq!(exec.run_until_idle(), 1);
    removed_in_run.try_recv().expect("removed inside the run");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the first disk's extension"
    );
    assert_eq!(wmi_updates(), [first_addr, addr(&second)]);
    // The routine returned: the queue's reference went, and with it the
    // deleted object.
    assert!(host_first.is_freed());

    let second = Arc::into_inner(second).expect("the hooks dropped their handles");
    remove_disk(second, &irql);
    assert_nothing_left(&exec);
    drop(host_first);
    driver.unload().expect("DriverUnload");
}

/// Threaded: the remove of a disk whose re-registration is still running
/// waits on the remove lock (the `HeldExtension` in the worker's request)
/// until the worker released it, so the disk is never deleted under
/// `IoWMIRegistrationControl`. Meanwhile the remove has started: a new
/// acquisition is refused, and a new MODE SENSE is not sent.
#[test]
fn removal_waits_for_the_reregistration_that_holds_the_remove_lock() {
    let _image = image();
    let exec = Executive::new();
    let driver = exec.load_driver("disk-threads.sys");
    let irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));
    let disk = add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice");

    let (entered, in_wmi) = mpsc::channel();
    let (go, release) = mpsc::channel::<()>();
    *WMI_HOOK.lock().unwrap() = Some(Box::new(move |_, _| {
        entered.send(()).unwrap();
        release.recv().unwrap();
    }));
    info_exception_check(disk.object(), &irql);
    assert_eq!(complete(&disk, SMART_PAGE), Completion::Posted);
    in_wmi
        .recv_timeout(Duration::from_secs(10))
        .expect("the worker runs");

    // The host's handle keeps the object (not the extension) across the
    // delete, to ask for the extension while the remove waits.
    let object = ARef::from(disk.object());
    let (removed, done) = mpsc::channel();
    let remover = {
        let remover_drops = Arc::clone(&drops);
        let exec = &exec;
        std::thread::scope(|scope| {
            let remover = scope.spawn(move || {
                let _bound = exec.enter();
                let irql = Passive::on_host();
                remove_disk(disk, &irql);
                removed.send(remover_drops.load(Ordering::SeqCst)).unwrap();
            });
            // The remove started: ClassAcquireRemoveLock is refused.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while object.extension::<DiskData>(&irql).is_some() {
                assert!(std::time::Instant::now() < deadline, "the remove starts");
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(
                info_exception_check(&object, &irql),
                STATUS_DEVICE_DOES_NOT_EXIST
            );
            // ... and it has not finished: the worker's request holds the disk.
            assert!(
                done.recv_timeout(Duration::from_millis(200)).is_err(),
                "the remove waits for the remove lock"
            );
            assert_eq!(drops.load(Ordering::SeqCst), 0, "DiskData is alive");
            assert!(wmi_updates().is_empty());
            go.send(()).unwrap();
            let dropped = done
                .recv_timeout(Duration::from_secs(10))
                .expect("the remove ends");
            assert_eq!(dropped, 1);
            remover.join()
        })
    };
    remover.expect("the remover");
    assert_eq!(wmi_updates().len(), 1, "registered before the delete");
    drop(object);
    exec.wait_idle();
    assert_nothing_left(&exec);
    driver.unload().expect("DriverUnload");
}

/// Threaded: the worker is preempted after it released the last request and
/// before it returns. The disk's remove finishes and the driver is unloaded
/// in that window (in C, `IoFreeWorkItem(Context)` and the return still run
/// in the image): the queue's reference on the device keeps the image mapped
/// until the routine has returned, then it is unmapped.
#[test]
fn unload_right_after_the_last_release_keeps_the_image_until_the_routine_returns() {
    let _image = image();
    let exec = Executive::new();
    let driver = exec.load_driver("disk-unload.sys");
    let irql = Passive::on_host();
    let drops = Arc::new(AtomicUsize::new(0));
    static UNLOAD_RAN: AtomicBool = AtomicBool::new(false);
    UNLOAD_RAN.store(false, Ordering::SeqCst);
    DriverObject::of(&driver)
        .set_unload(|_, _| UNLOAD_RAN.store(true, Ordering::SeqCst), &irql)
        .expect("DriverEntry");
    let disk = add_disk(DriverObject::of(&driver), &drops, &irql).expect("AddDevice");

    let (released, in_window) = mpsc::channel();
    let (go, resume) = mpsc::channel::<()>();
    *RELEASE_HOOK.lock().unwrap() = Some(Box::new(move || {
        released.send(()).unwrap();
        resume.recv().unwrap();
    }));
    info_exception_check(disk.object(), &irql);
    assert_eq!(complete(&disk, SMART_PAGE), Completion::Posted);
    in_window
        .recv_timeout(Duration::from_secs(10))
        .expect("the worker released the request");

    // IRP_MN_REMOVE_DEVICE: the lock is free, so the remove does not wait.
    remove_disk(disk, &irql);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    driver.unload().expect("DriverUnload");
    assert!(
        exec.is_image_mapped("disk-unload.sys"),
        "the queued item's device reference holds the driver"
    );

    go.send(()).unwrap();
    exec.wait_idle();
    assert!(!exec.is_image_mapped("disk-unload.sys"));
    assert!(UNLOAD_RAN.load(Ordering::SeqCst));
    assert_nothing_left(&exec);
}
