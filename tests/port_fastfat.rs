//! The work items of a real file system driver, ported to ntwork and run on
//! the host executive.
//!
//! Source: microsoft/Windows-driver-samples, `filesys/fastfat`: `workque.c`
//! (`FatFsdPostRequest`, `FatAddToWorkque`, `FSP_PER_DEVICE_THRESHOLD`),
//! `fspdisp.c` (`FatFspDispatch`, `FatRemoveOverflowEntry`), `close.c`
//! (`FatFsdClose`, `FatQueueClose`, `FatCloseWorker`, `FatFspClose`,
//! `FatRemoveClose`), `fatinit.c` (`DriverEntry`, `FatUnload`) and
//! `fatstruc.h` (`VOLUME_DEVICE_OBJECT`, `FAT_DATA`).
//!
//! FAT has two kinds of deferred work:
//!
//! - **Posting to the FSP.** A request that cannot block in the caller's
//!   thread is posted: the `IRP_CONTEXT` embeds a `WORK_QUEUE_ITEM` and goes
//!   to `ExQueueWorkItem(CriticalWorkQueue)`. At most
//!   `FSP_PER_DEVICE_THRESHOLD + 1` posts per volume are on worker threads at
//!   once; later ones wait in the volume's overflow queue (a spin lock), and
//!   `FatFspDispatch` runs them in the same worker before it returns.
//! - **Delayed close.** `FatFsdClose` puts closes it must not (or chose not
//!   to) do now on two global lists; one `IO_WORKITEM` allocated in
//!   `DriverEntry` on the file system's device object runs `FatFspClose`,
//!   started by `FatQueueClose` past a limit. The `AsyncCloseActive` flag,
//!   set by the queuer and cleared by the worker when it finds nothing to
//!   do, keeps that one item from being queued twice.
//!
//! | C | ntwork |
//! |---|---|
//! | `IRP_CONTEXT.WorkQueueItem`, allocated with the context (`FatCreateIrpContext`) | `fsp_dispatch::new(IrpContext, irql)`: an `ExWorkItem` holding the context, so the post itself allocates nothing, as in C |
//! | `ExInitializeWorkItem` + `ExQueueWorkItem(&IrpContext->WorkQueueItem, CriticalWorkQueue)` | `item.queue(&FSP_WORK, WorkQueue::Critical, irql)`, counted in a `Rundown` that ntwork's DriverUnload waits for |
//! | `VOLUME_DEVICE_OBJECT` (`PostedRequestCount`, `OverflowQueue`, `OverflowQueueSpinLock`) | `Device<Volume>` with a `SpinLock<Overflow>`; the overflow queue holds the unqueued `ExWorkItem`s |
//! | `CONTAINING_RECORD(IrpSp->DeviceObject, VOLUME_DEVICE_OBJECT, ..)` in the FSP | `IrpContext::volume`, an `ARef<DeviceObject>`, and `extension::<Volume>(irql)` |
//! | `FatRemoveOverflowEntry`, the `while (TRUE)` loop of `FatFspDispatch` | the routine's loop; an overflow entry's item is never queued: `into_context()` frees it |
//! | `FAT_DATA` (a global) with `FatCloseItem`, `AsyncCloseList`, `DelayedCloseList`, `AsyncCloseActive`, `ShutdownStarted` | `FatData`, the extension of the file system's `Device`, with a `ReusableIoWorkItem<close_worker>` and a `SpinLock<Closes>` (C: a fast mutex) |
//! | `IoAllocateWorkItem(FatDiskFileSystemDeviceObject)`, freed in `FatUnload` | `ReusableIoWorkItem::new(fsdo, irql)` in `Device::create_with`; freed when the extension drops |
//! | `IoQueueWorkItem(FatData.FatCloseItem, FatCloseWorker, CriticalWorkQueue, NULL)` | `fat.close_item.queue((), WorkQueue::Critical, irql)` |
//! | `FatUnload`: `IoFreeWorkItem(FatData.FatCloseItem)` with no wait | `fat_unload` (given to `set_unload`): shutdown, `flush`, the remaining closes, `Device::delete` |
//! | `FatData.ZeroPage = ExAllocatePoolWithTag(..)` in `DriverEntry` | `ZeroPage::allocate`, `ExAllocatePool2` behind a type that frees it |
//!
//! Two C mistakes of this code, kept by the sample, and what ntwork does:
//! `DriverEntry` returns `STATUS_INSUFFICIENT_RESOURCES` when the zero page
//! cannot be allocated without freeing `FatCloseItem` (a leaked
//! `IO_WORKITEM`; the `?` here frees it), and `FatUnload` frees
//! `FatCloseItem` without waiting for a close worker it may have queued
//! (bug check 0xE4/2, `IoFreeWorkItem` of a queued item; here the unload
//! flushes, and the item outlives its owner if it does not). The tests run the C versions
//! through `ntwork::ffi` beside the port.
//!
//! Deviations: the IRPs, FCBs, the VCB resource and `FatCommonClose` are
//! modelled (an `Irp` records its completion, a close context carries a
//! `Counted` FCB whose run is the close); the per-volume close lists, the
//! "high water" starvation logic of `FatRemoveClose`, the oplock package and
//! the CD-ROM device object are left out.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ntwork::ffi::{
    self, NTSTATUS, POOL_FLAG_NON_PAGED, STATUS_DELETE_PENDING, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_PENDING, STATUS_SUCCESS,
};
use ntwork::irql::{AtMostDispatch, Passive};
use ntwork::{
    ARef, Device, DeviceObject, DeviceOptions, DriverObject, ExWorkItem, NotQueued, QueueError,
    ReusableIoWorkItem, Rundown, SpinLock, WorkQueue, work_item,
};
use ntwork_host::{Executive, FailurePlan, FaultSite, bugcheck};
use ntwork_suite::{Counted, Tally};

// ---- Constants of the sample ------------------------------------------------

/// `FILE_DEVICE_DISK_FILE_SYSTEM` (wdm.h).
const FILE_DEVICE_DISK_FILE_SYSTEM: u32 = 0x0000_0008;
/// `FSP_PER_DEVICE_THRESHOLD` (workque.c): a post goes to the overflow queue
/// once more than this many are on worker threads for its volume.
const FSP_PER_DEVICE_THRESHOLD: u32 = 2;
/// `FatMaxDelayedCloseCount` on a small system (`FAT_MAX_DELAYED_CLOSES`).
const MAX_DELAYED_CLOSES: usize = 16;
/// `PAGE_SIZE`.
const PAGE_SIZE: usize = 4096;
/// The pool tag of the zero page (`'ZtaF'`).
const ZERO_PAGE_TAG: u32 = u32::from_le_bytes(*b"FatZ");

// ---- A modelled IRP -----------------------------------------------------------

/// What `IoCompleteRequest` recorded: `(irp id, status)`, in order.
type Completions = Arc<Mutex<Vec<(u32, NTSTATUS)>>>;

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

    /// `FatCompleteRequest`.
    fn complete(mut self, status: NTSTATUS) {
        self.completed = true;
        self.log.lock().unwrap().push((self.id, status));
    }
}

impl Drop for Irp {
    fn drop(&mut self) {
        if !self.completed && !std::thread::panicking() {
            panic!("IRP {} dropped without IoCompleteRequest", self.id);
        }
    }
}

// ---- The FSD/FSP post ---------------------------------------------------------

/// `IRP_CONTEXT`, the parts the post touches.
struct IrpContext {
    irp: Irp,
    /// The volume device object when the request has a file object
    /// (`IrpSp->DeviceObject`); `None` for a request to the file system's
    /// own device object, which the overflow accounting skips.
    volume: Option<ARef<DeviceObject>>,
}

/// The fields of `VOLUME_DEVICE_OBJECT` after its `DEVICE_OBJECT`.
#[derive(Default)]
struct Volume {
    overflow: SpinLock<Overflow>,
    /// Requests the FSP dispatched for this volume (the test's view).
    dispatched: AtomicU32,
}

/// Guarded by `OverflowQueueSpinLock`.
#[derive(Default)]
struct Overflow {
    /// `PostedRequestCount`: posts on (or queued to) worker threads.
    posted: u32,
    /// `OverflowQueue`: posts waiting for one of those workers. The C links
    /// the context's own `WORK_QUEUE_ITEM` here; so does this: the item is
    /// kept, unqueued.
    queue: VecDeque<ExWorkItem<fsp_dispatch>>,
}

/// Counts the FSP's Ex work; ntwork's DriverUnload waits for it.
static FSP_WORK: Rundown = Rundown::new();

/// `FatFspDispatch`: at `PASSIVE_LEVEL`, runs the request, then the volume's
/// overflow entries, one after the other, in this worker.
#[work_item(rundown = FSP_WORK)]
fn fsp_dispatch(first: IrpContext, irql: &mut Passive<'_>) {
    let volume = first.volume.clone();
    let mut next = Some(first);
    while let Some(context) = next.take() {
        // The major-function switch: the request runs to completion here.
        context.irp.complete(STATUS_SUCCESS);
        let Some(volume) = volume.as_deref() else {
            break;
        };
        let Some(vdo) = volume.extension::<Volume>(irql) else {
            break;
        };
        vdo.dispatched.fetch_add(1, Ordering::SeqCst);
        // FatRemoveOverflowEntry: the next entry, or one post fewer.
        let entry = vdo.overflow.lock(irql, |overflow, _| {
            let entry = overflow.queue.pop_front();
            if entry.is_none() {
                overflow.posted -= 1;
            }
            entry
        });
        // The entry's item is never queued: take its context, free it.
        next = entry.map(ExWorkItem::into_context);
    }
}

/// `FatAddToWorkque`: to a worker, or to the volume's overflow queue. A
/// refused post (the driver is unloading) comes back with its context.
fn add_to_workque(
    item: ExWorkItem<fsp_dispatch>,
    irql: &mut impl AtMostDispatch,
) -> Result<(), QueueError<ExWorkItem<fsp_dispatch>>> {
    let volume = item.context().volume.clone();
    let vdo = volume.as_deref().and_then(|v| v.extension::<Volume>(irql));
    let item = match &vdo {
        Some(vdo) => vdo.overflow.lock(irql, |overflow, _| {
            if overflow.posted > FSP_PER_DEVICE_THRESHOLD {
                overflow.queue.push_back(item);
                None
            } else {
                overflow.posted += 1;
                Some(item)
            }
        }),
        None => Some(item),
    };
    let Some(item) = item else {
        return Ok(());
    };
    item.queue(&FSP_WORK, WorkQueue::Critical, irql)
        .inspect_err(|_| {
            // Not in C, where ExQueueWorkItem cannot fail: give the count back.
            if let Some(vdo) = &vdo {
                vdo.overflow.lock(irql, |overflow, _| overflow.posted -= 1);
            }
        })
}

/// A dispatch routine's path for a request it cannot do in the caller's
/// thread (`Wait` FALSE): `FatCreateIrpContext` (the item is allocated with
/// the context), `FatFsdPostRequest`, `STATUS_PENDING`.
fn fsd_post(volume: Option<&DeviceObject>, irp: Irp, irql: &mut Passive<'_>) -> NTSTATUS {
    let context = IrpContext {
        irp,
        volume: volume.map(ARef::from),
    };
    let item = match fsp_dispatch::new(context, irql) {
        Ok(item) => item,
        Err(failed) => {
            // FatCreateIrpContext raised: the exception filter completes the IRP.
            failed
                .into_inner()
                .irp
                .complete(STATUS_INSUFFICIENT_RESOURCES);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
    };
    match add_to_workque(item, irql) {
        Ok(()) => STATUS_PENDING,
        Err(refused) => {
            refused
                .into_inner()
                .into_context()
                .irp
                .complete(STATUS_DELETE_PENDING);
            STATUS_DELETE_PENDING
        }
    }
}

// ---- Delayed close ------------------------------------------------------------

/// `CLOSE_CONTEXT`: what `FatCommonClose` needs, here the FCB it tears down.
struct CloseContext {
    fcb: Counted,
}

/// `FatCommonClose`: the FCB is torn down (its run is the close).
fn common_close(context: CloseContext) {
    context.fcb.mark_ran();
}

/// The close lists of `FAT_DATA`, under `FatCloseQueueMutex`.
#[derive(Default)]
struct Closes {
    /// `AsyncCloseList`: closes that could not get the volume.
    async_list: VecDeque<CloseContext>,
    /// `DelayedCloseList`: closes kept for a reopen that may come.
    delayed: VecDeque<CloseContext>,
    /// `AsyncCloseActive`: the close item is queued or its worker runs.
    active: bool,
}

/// `FAT_DATA`, the parts the work items touch: the extension of the file
/// system's device object (`FatDiskFileSystemDeviceObject`).
struct FatData {
    close_item: ReusableIoWorkItem<close_worker>,
    closes: SpinLock<Closes>,
    shutdown_started: AtomicBool,
    /// Runs of the close worker (the test's view).
    worker_runs: AtomicU32,
    _zero_page: ZeroPage,
}

/// `FatCloseWorker` / `FatFspClose(NULL)`: at `PASSIVE_LEVEL`, closes until
/// `FatRemoveClose` finds nothing to do, which clears `AsyncCloseActive`.
#[work_item(device)]
fn close_worker(device: &DeviceObject, _: (), irql: &mut Passive<'_>) {
    let Some(fat) = device.extension::<FatData>(irql) else {
        return;
    };
    fat.worker_runs.fetch_add(1, Ordering::SeqCst);
    fsp_close(&fat, true, irql);
}

/// `FatFspClose`: every close `FatRemoveClose` hands out. `worker` is the
/// close worker (C: a NULL Vcb), which clears the active flag at the end.
fn fsp_close(fat: &FatData, worker: bool, irql: &mut Passive<'_>) -> usize {
    let mut closed = 0;
    while let Some(context) = remove_close(fat, worker, irql) {
        common_close(context);
        closed += 1;
    }
    closed
}

/// `FatRemoveClose(NULL, ..)`: an async close first; then a delayed one while
/// more than half the limit wait (all of them once shutdown started).
fn remove_close(fat: &FatData, worker: bool, irql: &mut Passive<'_>) -> Option<CloseContext> {
    let shutdown = fat.shutdown_started.load(Ordering::SeqCst);
    fat.closes.lock(irql, |closes, _| {
        if let Some(context) = closes.async_list.pop_front() {
            return Some(context);
        }
        if !closes.delayed.is_empty() && (closes.delayed.len() > MAX_DELAYED_CLOSES / 2 || shutdown)
        {
            return closes.delayed.pop_front();
        }
        if worker {
            closes.active = false;
        }
        None
    })
}

/// `FatQueueClose`: to one of the lists; starts the worker for an async
/// close, or past the limit of delayed ones, unless it is active.
fn queue_close(fat: &FatData, context: CloseContext, delay: bool, irql: &mut Passive<'_>) {
    let start = fat.closes.lock(irql, |closes, _| {
        if delay {
            closes.delayed.push_back(context);
            if closes.delayed.len() > MAX_DELAYED_CLOSES && !closes.active {
                closes.active = true;
                return true;
            }
        } else {
            closes.async_list.push_back(context);
            if !closes.active {
                closes.active = true;
                return true;
            }
        }
        false
    });
    if start && let Err(refused) = fat.close_item.queue((), WorkQueue::Critical, irql) {
        // With the flag, never AlreadyQueued; Flushing at unload, which
        // closes what is left itself.
        assert_eq!(refused.reason, NotQueued::Flushing);
        fat.closes.lock(irql, |closes, _| closes.active = false);
    }
}

/// `FatFsdClose` for a user file open: delayed if the FCB asks for it (and
/// no shutdown started), else closed now, or queued as an async close when
/// the volume is busy (`FatCommonClose` returned `STATUS_PENDING`).
fn fsd_close(
    fsdo: &DeviceObject,
    fcb: Counted,
    delay: bool,
    volume_busy: bool,
    irql: &mut Passive<'_>,
) -> NTSTATUS {
    let Some(fat) = fsdo.extension::<FatData>(irql) else {
        return STATUS_DELETE_PENDING;
    };
    let context = CloseContext { fcb };
    let delay = delay && !fat.shutdown_started.load(Ordering::SeqCst);
    if delay || volume_busy {
        queue_close(&fat, context, delay, irql);
    } else {
        common_close(context);
    }
    // A close always succeeds, whatever happens to it later.
    STATUS_SUCCESS
}

// ---- DriverEntry and FatUnload -------------------------------------------------

/// `FatData.ZeroPage`: a page of nonpaged pool, freed when dropped.
struct ZeroPage(std::ptr::NonNull<u8>);

// SAFETY: the page is plain memory this value owns; no thread-affine state.
unsafe impl Send for ZeroPage {}
// SAFETY: `&ZeroPage` gives no access to the page.
unsafe impl Sync for ZeroPage {}

impl ZeroPage {
    fn allocate(irql: &impl AtMostDispatch) -> Result<Self, NTSTATUS> {
        let _ = irql; // nonpaged pool: <= DISPATCH_LEVEL
        // SAFETY: a nonpaged allocation of a nonzero size with a nonzero tag,
        // at <= DISPATCH_LEVEL (the proof); no other precondition.
        let page = unsafe { ffi::ExAllocatePool2(POOL_FLAG_NON_PAGED, PAGE_SIZE, ZERO_PAGE_TAG) };
        std::ptr::NonNull::new(page.cast())
            .map(Self)
            .ok_or(STATUS_INSUFFICIENT_RESOURCES)
    }
}

impl Drop for ZeroPage {
    fn drop(&mut self) {
        // SAFETY: the block came from `ExAllocatePool2` with this tag and is
        // freed once, here.
        unsafe { ffi::ExFreePoolWithTag(self.0.as_ptr().cast(), ZERO_PAGE_TAG) };
    }
}

/// `FatDiskFileSystemDeviceObject`, between `DriverEntry` and `FatUnload`.
static FSDO: AtomicPtr<ffi::DEVICE_OBJECT> = AtomicPtr::new(std::ptr::null_mut());

/// `DriverEntry`, at `PASSIVE_LEVEL`: the file system's device object with
/// `FAT_DATA` (its close item and zero page), the unload, the FSP's rundown.
fn driver_entry(
    driver: &DriverObject,
    irql: &Passive<'_>,
) -> Result<ffi::PDEVICE_OBJECT, NTSTATUS> {
    let options = DeviceOptions::new(FILE_DEVICE_DISK_FILE_SYSTEM);
    let fsdo = Device::create_with(driver, options, irql, |fsdo| {
        Ok::<_, NTSTATUS>(FatData {
            close_item: ReusableIoWorkItem::new(fsdo, irql)?,
            closes: SpinLock::default(),
            shutdown_started: AtomicBool::new(false),
            worker_runs: AtomicU32::new(0),
            // C returns here without IoFreeWorkItem(FatData.FatCloseItem).
            _zero_page: ZeroPage::allocate(irql)?,
        })
    })?;
    // C: IoDeleteDevice on each failure. A `?` here would drop the device,
    // which deletes it too, but later, on a system worker thread.
    let registered = driver
        .set_unload(fat_unload, irql)
        .map_err(NTSTATUS::from)
        .and_then(|()| FSP_WORK.open(driver, irql).map_err(NTSTATUS::from));
    if let Err(status) = registered {
        fsdo.delete(irql);
        return Err(status);
    }
    // IoRegisterFileSystem: not modelled. The device lives until FatUnload.
    let raw = fsdo.into_raw();
    FSDO.store(raw, Ordering::SeqCst);
    Ok(raw)
}

/// `FatUnload`, after ntwork's DriverUnload waited for `FSP_WORK`. The C
/// frees the close item at once; this stops the delayed closes, waits for a
/// queued worker, does what is left, and deletes the device (freeing the
/// item with `FAT_DATA`).
fn fat_unload(_driver: &DriverObject, irql: &mut Passive<'_>) {
    let raw = FSDO.swap(std::ptr::null_mut(), Ordering::SeqCst);
    if raw.is_null() {
        return;
    }
    // SAFETY: `driver_entry` gave this device up with `into_raw` and stored
    // it in `FSDO`; the swap above takes it back once.
    let fsdo = unsafe { Device::<FatData>::from_raw(raw) };
    let fat = fsdo.extension();
    if FLUSH_AT_UNLOAD.load(Ordering::SeqCst) {
        fat.shutdown_started.store(true, Ordering::SeqCst);
        fat.close_item.flush(irql);
        fsp_close(fat, false, irql);
    }
    fsdo.delete(irql);
}

/// The unload as the C has it (no wait for the close worker) when false.
static FLUSH_AT_UNLOAD: AtomicBool = AtomicBool::new(true);

// ---- Tests ---------------------------------------------------------------------

/// The driver's statics belong to one image: one test at a time loads it.
fn image() -> MutexGuard<'static, ()> {
    static IMAGE: Mutex<()> = Mutex::new(());
    let guard = IMAGE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    FLUSH_AT_UNLOAD.store(true, Ordering::SeqCst);
    guard
}

fn assert_nothing_left(exec: &Executive) {
    assert_eq!(exec.io_work_items_outstanding(), 0, "no IO_WORKITEM left");
    assert_eq!(exec.pool_outstanding(), 0, "no pool left");
    assert_eq!(exec.bug_check(), None);
}

fn overflow_state(volume: &Device<Volume>, irql: &mut Passive<'_>) -> (u32, usize) {
    volume
        .extension()
        .overflow
        .lock(irql, |o, _| (o.posted, o.queue.len()))
}

#[test]
fn posts_beyond_the_threshold_wait_in_the_volume_overflow_queue() {
    let _image = image();
    let exec = Executive::manual();
    let driver = exec.load_driver("fastfat.sys");
    let mut irql = Passive::on_host();
    let fsdo = driver_entry(DriverObject::of(&driver), &irql).expect("DriverEntry");
    assert!(!fsdo.is_null());
    let log = Completions::default();

    // A mounted volume (FatMountVolume): its device object and counters.
    let volume = Device::create(
        DriverObject::of(&driver),
        Volume::default(),
        DeviceOptions::new(FILE_DEVICE_DISK_FILE_SYSTEM),
        &irql,
    )
    .unwrap();

    for id in 1..=5 {
        assert_eq!(
            fsd_post(Some(volume.object()), Irp::new(id, &log), &mut irql),
            STATUS_PENDING
        );
    }
    assert_eq!(exec.pending(), 3, "threshold 2: three posts on workers");
    assert_eq!(overflow_state(&volume, &mut irql), (3, 2));

    // The first worker runs its request, then both overflow entries.
    assert!(exec.run_next());
    assert_eq!(
        *log.lock().unwrap(),
        [
            (1, STATUS_SUCCESS),
            (4, STATUS_SUCCESS),
            (5, STATUS_SUCCESS)
        ]
    );
    assert_eq!(overflow_state(&volume, &mut irql), (2, 0));
    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(log.lock().unwrap().len(), 5, "every IRP completed once");
    assert_eq!(overflow_state(&volume, &mut irql), (0, 0));
    assert_eq!(volume.extension().dispatched.load(Ordering::SeqCst), 5);

    // A request without a file object skips the accounting.
    assert_eq!(fsd_post(None, Irp::new(6, &log), &mut irql), STATUS_PENDING);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(overflow_state(&volume, &mut irql), (0, 0));

    volume.delete(&irql);
    driver.unload().expect("FatUnload");
    assert!(!exec.is_image_mapped("fastfat.sys"));
    assert_nothing_left(&exec);
}

#[test]
fn delayed_closes_start_the_worker_past_the_limit_and_shutdown_takes_the_rest() {
    let _image = image();
    let exec = Executive::manual();
    let driver = exec.load_driver("fastfat.sys");
    let mut irql = Passive::on_host();
    let raw = driver_entry(DriverObject::of(&driver), &irql).unwrap();
    let host_fsdo = driver.device(raw).unwrap();
    let fsdo = DeviceObject::of(&host_fsdo);
    let fcbs = Tally::new();

    for id in 0..MAX_DELAYED_CLOSES {
        fsd_close(fsdo, Counted::new(&fcbs, id), true, false, &mut irql);
    }
    assert_eq!(exec.pending(), 0, "up to the limit, closes just wait");
    fsd_close(fsdo, Counted::new(&fcbs, 16), true, false, &mut irql);
    assert_eq!(exec.pending(), 1, "past the limit: the close item");
    fsd_close(fsdo, Counted::new(&fcbs, 17), true, false, &mut irql);
    assert_eq!(exec.pending(), 1, "AsyncCloseActive: not queued again");

    // The worker closes down to half the limit, then clears the flag.
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(fcbs.ran(), 18 - MAX_DELAYED_CLOSES / 2);
    let fat = fsdo.extension::<FatData>(&irql).unwrap();
    assert!(!fat.closes.lock(&mut irql, |c, _| c.active));
    drop(fat);

    // A close that cannot get the volume goes to the async list and starts
    // the worker at once; the delayed ones stay at half the limit.
    fsd_close(fsdo, Counted::new(&fcbs, 18), false, true, &mut irql);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(fcbs.ran(), 11);
    // And one that can is closed in the caller's thread.
    fsd_close(fsdo, Counted::new(&fcbs, 19), false, false, &mut irql);
    assert_eq!((fcbs.ran(), exec.pending()), (12, 0));

    // FatUnload: shutdown closes the eight still delayed.
    drop(host_fsdo);
    driver.unload().expect("FatUnload");
    assert_eq!(fcbs.ran(), 20, "every FCB closed");
    assert_eq!(fcbs.dropped(), 20);
    assert!(!exec.is_image_mapped("fastfat.sys"));
    assert_nothing_left(&exec);
}

/// Without `AsyncCloseActive` the C queues `FatCloseItem` while it is queued:
/// bug check 0xE4. The reusable item refuses instead, with the context back.
#[test]
fn the_close_item_queued_twice_is_refused_where_c_bug_checks() {
    let _image = image();
    let exec = Executive::manual();
    let driver = exec.load_driver("fastfat.sys");
    let irql = Passive::on_host();
    let raw = driver_entry(DriverObject::of(&driver), &irql).unwrap();
    let host_fsdo = driver.device(raw).unwrap();
    let fsdo = DeviceObject::of(&host_fsdo);

    let fat = fsdo.extension::<FatData>(&irql).unwrap();
    fat.close_item
        .queue((), WorkQueue::Critical, &irql)
        .unwrap();
    let refused = fat
        .close_item
        .queue((), WorkQueue::Critical, &irql)
        .unwrap_err();
    assert_eq!(refused.reason, NotQueued::AlreadyQueued);
    drop(fat);
    assert_eq!(exec.run_until_idle(), 1, "one run");
    drop(host_fsdo);
    driver.unload().unwrap();
    assert_nothing_left(&exec);

    // The C, through the raw calls.
    let exec = Executive::manual();
    let driver = exec.load_driver("fastfat-c.sys");
    let device = driver.create_device();
    unsafe extern "system" fn fat_close_worker(_: ffi::PDEVICE_OBJECT, _: *mut core::ffi::c_void) {}
    // SAFETY: a live device object of this driver.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    assert!(!item.is_null());
    // SAFETY: an allocated, unqueued item with a routine of the right type.
    unsafe {
        ffi::IoQueueWorkItem(
            item,
            Some(fat_close_worker),
            ffi::CriticalWorkQueue,
            std::ptr::null_mut(),
        )
    };
    // SAFETY: the same item, still queued: the mistake under test.
    unsafe {
        ffi::IoQueueWorkItem(
            item,
            Some(fat_close_worker),
            ffi::CriticalWorkQueue,
            std::ptr::null_mut(),
        )
    };
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::WORKER_INVALID);
    assert_eq!(stop.subcode(), 1, "an active item queued again");
}

/// `FatUnload` as the sample writes it: `IoFreeWorkItem(FatData.FatCloseItem)`
/// with the close worker still queued.
#[test]
fn c_fat_unload_frees_the_close_item_while_it_is_queued() {
    let exec = Executive::manual();
    let driver = exec.load_driver("fastfat-c.sys");
    let device = driver.create_device();
    unsafe extern "system" fn fat_close_worker(_: ffi::PDEVICE_OBJECT, _: *mut core::ffi::c_void) {}
    // SAFETY: a live device object of this driver.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    // SAFETY: an allocated, unqueued item with a routine of the right type.
    unsafe {
        ffi::IoQueueWorkItem(
            item,
            Some(fat_close_worker),
            ffi::CriticalWorkQueue,
            std::ptr::null_mut(),
        )
    };
    // SAFETY: the item is queued: the mistake under test.
    unsafe { ffi::IoFreeWorkItem(item) };
    let stop = exec.expect_bug_check();
    assert_eq!(stop.code, bugcheck::WORKER_INVALID);
    assert_eq!(stop.subcode(), 2, "IoFreeWorkItem of a queued item");
}

/// The port's unload without the flush (the C's order): no bug check. The
/// queued item keeps the device, so the worker still runs, finds no
/// `FAT_DATA`, and the closes that waited are dropped without their close.
#[test]
fn an_unload_that_does_not_flush_drops_the_waiting_closes_but_frees_nothing_queued() {
    let _image = image();
    FLUSH_AT_UNLOAD.store(false, Ordering::SeqCst);
    let exec = Executive::manual();
    let driver = exec.load_driver("fastfat.sys");
    let mut irql = Passive::on_host();
    let raw = driver_entry(DriverObject::of(&driver), &irql).unwrap();
    let host_fsdo = driver.device(raw).unwrap();
    let fcbs = Tally::new();

    for id in 0..=MAX_DELAYED_CLOSES {
        fsd_close(
            DeviceObject::of(&host_fsdo),
            Counted::new(&fcbs, id),
            true,
            false,
            &mut irql,
        );
    }
    assert_eq!(exec.pending(), 1);
    drop(host_fsdo);
    driver.unload().expect("FatUnload");
    assert_eq!(fcbs.ran(), 0);
    assert_eq!(fcbs.dropped(), 17, "dropped with FAT_DATA, never closed");
    assert!(
        exec.is_image_mapped("fastfat.sys"),
        "the queued worker keeps the device, and so the image"
    );
    assert_eq!(exec.io_work_items_outstanding(), 1);
    assert_eq!(exec.run_until_idle(), 1, "the worker found no FAT_DATA");
    assert!(!exec.is_image_mapped("fastfat.sys"));
    assert_nothing_left(&exec);
}

/// Every allocation of `DriverEntry` fails in turn (IoCreateDevice, the close
/// item, the zero page, ...): each failure returns the status and leaves
/// nothing allocated. The C leaks `FatCloseItem` when the zero page fails.
#[test]
fn driver_entry_fails_cleanly_at_each_allocation() {
    let _image = image();
    let sites = [
        FaultSite::IoCreateDevice,
        FaultSite::IoAllocateWorkItem,
        FaultSite::Pool,
    ];
    let mut failures = 0;
    for site in sites {
        for n in 1.. {
            let exec = Executive::manual();
            let driver = exec.load_driver("fastfat.sys");
            let irql = Passive::on_host();
            exec.fail_allocations(site, FailurePlan::Nth(n));
            match driver_entry(DriverObject::of(&driver), &irql) {
                Err(status) => {
                    assert_eq!(status, STATUS_INSUFFICIENT_RESOURCES, "{site:?} #{n}");
                    assert_eq!(exec.io_work_items_outstanding(), 0, "{site:?} #{n}");
                    assert_eq!(exec.pool_outstanding(), 0, "{site:?} #{n}");
                    assert_eq!(exec.bug_check(), None);
                    failures += 1;
                }
                Ok(_) => {
                    driver.unload().unwrap();
                    assert_nothing_left(&exec);
                    break;
                }
            }
        }
    }
    assert!(failures >= 4, "{failures} failure points");

    // The C's order: the item, then the zero page fails, and the return
    // forgets the item.
    let exec = Executive::manual();
    let driver = exec.load_driver("fastfat-c.sys");
    let device = driver.create_device();
    // SAFETY: a live device object of this driver.
    let item = unsafe { ffi::IoAllocateWorkItem(device.as_raw()) };
    assert!(!item.is_null());
    exec.fail_allocations(FaultSite::Pool, FailurePlan::Next(1));
    // SAFETY: a nonpaged allocation with a nonzero size and tag.
    let page = unsafe { ffi::ExAllocatePool2(POOL_FLAG_NON_PAGED, PAGE_SIZE, ZERO_PAGE_TAG) };
    assert!(page.is_null());
    assert_eq!(exec.io_work_items_outstanding(), 1, "FatCloseItem leaked");
    // SAFETY: the item is allocated and was never queued (the test's cleanup).
    unsafe { ffi::IoFreeWorkItem(item) };
}

/// Threaded workers: posts and closes from several threads, then the unload
/// at once. ntwork's DriverUnload waits for the FSP's Ex work, `fat_unload`
/// for the close worker; every IRP and FCB is done, nothing is left, and a
/// post after the unload is refused with its IRP completed.
#[test]
fn unload_with_work_in_flight_on_worker_threads() {
    let _image = image();
    let exec = Executive::new();
    let driver = exec.load_driver("fastfat.sys");
    let mut irql = Passive::on_host();
    let raw = driver_entry(DriverObject::of(&driver), &irql).unwrap();
    let host_fsdo = driver.device(raw).unwrap();
    let volume = Device::create(
        DriverObject::of(&driver),
        Volume::default(),
        DeviceOptions::new(FILE_DEVICE_DISK_FILE_SYSTEM),
        &irql,
    )
    .unwrap();
    let log = Completions::default();
    let fcbs = Tally::new();

    std::thread::scope(|s| {
        for t in 0..3u32 {
            let (exec, log, fcbs, volume, host_fsdo) = (&exec, &log, &fcbs, &volume, &host_fsdo);
            s.spawn(move || {
                let _bound = exec.enter();
                let mut irql = Passive::on_host();
                for n in 0..100u32 {
                    let id = t * 1000 + n;
                    let status = fsd_post(Some(volume.object()), Irp::new(id, log), &mut irql);
                    assert_eq!(status, STATUS_PENDING);
                    let fcb = Counted::new(fcbs, id as usize);
                    let fsdo = DeviceObject::of(host_fsdo);
                    fsd_close(fsdo, fcb, n % 3 != 0, n % 5 == 0, &mut irql);
                }
            });
        }
    });

    // IRP_MN_REMOVE_DEVICE for the volume once its posts are done (its
    // IRPs keep it in C); the FSP's Ex work may still be running.
    while log.lock().unwrap().len() < 300 {
        std::thread::yield_now();
    }
    let vdo = volume.extension();
    while vdo.overflow.lock(&mut irql, |o, _| o.posted) != 0 {
        std::thread::yield_now();
    }
    volume.delete(&irql);
    drop(host_fsdo);
    driver.unload().expect("FatUnload");
    assert_eq!(fcbs.ran(), 300, "every FCB closed");
    assert_eq!(fcbs.dropped(), 300);
    assert_eq!(log.lock().unwrap().len(), 300);

    assert_eq!(
        fsd_post(None, Irp::new(9999, &log), &mut irql),
        STATUS_DELETE_PENDING
    );
    assert_eq!(
        log.lock().unwrap().last(),
        Some(&(9999, STATUS_DELETE_PENDING))
    );
    exec.wait_idle();
    assert!(!exec.is_image_mapped("fastfat.sys"));
    assert_nothing_left(&exec);
}
