//! The receive-buffer work items of a KMDF PCI NIC driver, ported to ntwork
//! and run on the host executive.
//!
//! Source: microsoft/Windows-driver-samples, `general/pcidrv/kmdf`:
//! `PCIDRV.C` (`PciDrvQueuePassiveLevelCallback`), `PCIDRV.H`
//! (`WORKER_ITEM_CONTEXT`, `FDO_DATA`), `HW/nic_recv.c`
//! (`NICHandleRecvInterrupt`, `NICServiceReadIrps`) and `HW/nic_init.c`
//! (`NICAllocRfdWorkItem`, `NICFreeRfdWorkItem`, `NICFreeRfd`).
//!
//! The receive path runs at DISPATCH_LEVEL with the `RcvLock` spin lock held.
//! Receive frame descriptors (RFDs) live in common buffers, which are created
//! and freed at PASSIVE_LEVEL only, so the driver grows and shrinks its RFD
//! pool through one-shot `WDFWORKITEM`s: `PciDrvQueuePassiveLevelCallback`
//! creates an item under the device with a `WORKER_ITEM_CONTEXT` (the
//! device's `FdoData` and an argument, the RFD to free), enqueues it, and the
//! callback deletes its own item when done. `AllocNewRfd` keeps at most one
//! grow item outstanding.
//!
//! | C | ntwork |
//! |---|---|
//! | `FDO_DATA` (`FdoGetData(device)`) | `Arc<FdoData>`, held by each item's context (ntwork has no typed `WDFDEVICE` context space) |
//! | `WDFSPINLOCK RcvLock` and the fields it guards | `SpinLock<Recv>`: `RecvList`, `CurrNumRfd`, `RfdShrinkCount`, `AllocNewRfd` |
//! | `WORKER_ITEM_CONTEXT { FdoData, Argument1, Argument2 }`, one type for every callback | one context type per routine: `AllocRfd { fdo }`, `FreeRfd { rfd }` |
//! | `WdfWorkItemCreate` + `WdfWorkItemEnqueue` (`PciDrvQueuePassiveLevelCallback`), from the DPC under `RcvLock`, the handle forgotten | `name::create(device, context, Serialization::Automatic, dispatch)` and `enqueue_and_leave(dispatch)`, with the spin lock's `Dispatch` proof |
//! | `Argument1 = pMpRfd` | the `Rfd` moved into the context (`SpinLock<Option<Rfd>>`: a callback only borrows its context) |
//! | a failed create: `AllocNewRfd = FALSE`, or the RFD back to the pool | `CreateError { status, context }`: the RFD comes back in the context |
//! | `WdfObjectDelete(WorkItem)` at the end of the callback | `item.delete()` on the running item |
//! | `AllocateCommonBuffer` / `FreeCommonBuffer`, PASSIVE_LEVEL only | `CommonBuffer::create` / `free`, which take `&impl AtPassive`: a free from the DPC does not compile |
//! | PnP removal with items queued | the framework flushes and disposes the device's items before the device's cleanup |
//!
//! Deviations: the hardware (the RFD chain, the receive unit, the read
//! requests completed with packet data) is modelled by a list of RFDs and a
//! packet count; `WdfMemoryCreateFromLookaside` and `WdfCommonBufferCreate`
//! are one modelled allocation that a test can make fail.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ntwork::ffi::wdf as w;
use ntwork::ffi::{NTSTATUS, STATUS_INSUFFICIENT_RESOURCES};
use ntwork::irql::{AtPassive, Dispatch, Passive};
use ntwork::wdf::{
    CreateError, Enqueued, RunningWdfWorkItem, Serialization, WdfDevice, WdfRoutine, WdfWorkItem,
};
use ntwork::{SpinLock, work_item};
use ntwork_host::wdf::{WdfDeviceConfig, WdfDeviceHandle};
use ntwork_host::{Driver, Executive, at_dispatch_level};
use ntwork_suite::{Counted, Tally};

// ---- Constants of the sample (nic_def.h) ---------------------------------

/// `NIC_MIN_RFDS`-like floor: below it the DPC asks for one more RFD.
const MIN_NUM_RFD: usize = 4;
/// `NIC_RFD_SHRINK_THRESHOLD`: at this count the read path frees RFDs.
const RFD_SHRINK_THRESHOLD: u32 = 10;

// ---- Modelled common buffers ---------------------------------------------

/// What the test counts of the common buffers.
#[derive(Default)]
struct Buffers {
    created: AtomicUsize,
    freed: AtomicUsize,
    /// Dropped without `free`: leaked DMA memory in the driver.
    leaked: AtomicUsize,
    /// The next create fails (low resources in the callback).
    fail_next: AtomicBool,
}

/// A `WDFCOMMONBUFFER`: created and freed at PASSIVE_LEVEL only.
struct CommonBuffer {
    buffers: Arc<Buffers>,
    freed: bool,
}

impl CommonBuffer {
    /// `WdfMemoryCreateFromLookaside` + `WdfCommonBufferCreate`.
    fn create(buffers: &Arc<Buffers>, _irql: &impl AtPassive) -> Result<Self, NTSTATUS> {
        if buffers.fail_next.swap(false, Ordering::SeqCst) {
            return Err(STATUS_INSUFFICIENT_RESOURCES);
        }
        buffers.created.fetch_add(1, Ordering::SeqCst);
        Ok(Self {
            buffers: Arc::clone(buffers),
            freed: false,
        })
    }

    /// `WdfObjectDelete` of the common buffer (`NICFreeRfd`).
    fn free(mut self, _irql: &impl AtPassive) {
        self.freed = true;
        self.buffers.freed.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for CommonBuffer {
    fn drop(&mut self) {
        if !self.freed {
            self.buffers.leaked.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// `MP_RFD`: a receive frame descriptor and its common buffer.
struct Rfd {
    buffer: CommonBuffer,
}

// ---- The device context ---------------------------------------------------

/// What `RcvLock` guards in `FDO_DATA`.
struct Recv {
    /// `RecvList` (`nReadyRecv` is its length).
    ready: VecDeque<Rfd>,
    /// `CurrNumRfd`: RFDs the driver owns (ready, in use, being freed).
    curr_num_rfd: u32,
    /// `MaxNumRfd`.
    max_num_rfd: u32,
    /// `RfdShrinkCount`.
    shrink_count: u32,
    /// `AllocNewRfd`: a grow item is outstanding.
    alloc_new_rfd: bool,
}

/// `FDO_DATA`, the receive part.
struct FdoData {
    rcv: SpinLock<Recv>,
    buffers: Arc<Buffers>,
    /// Drop counters of the work items' contexts.
    tally: Arc<Tally>,
    /// Contexts made.
    made: AtomicUsize,
}

impl FdoData {
    /// `NICAllocRecvResources` at start: `count` RFDs, at PASSIVE_LEVEL.
    fn new(count: usize, max: u32, irql: &Passive<'_>) -> Arc<Self> {
        let buffers = Arc::new(Buffers::default());
        let ready = (0..count)
            .map(|_| Rfd {
                buffer: CommonBuffer::create(&buffers, irql).unwrap(),
            })
            .collect();
        Arc::new(Self {
            rcv: SpinLock::new(Recv {
                ready,
                curr_num_rfd: count as u32,
                max_num_rfd: max,
                shrink_count: 0,
                alloc_new_rfd: false,
            }),
            buffers,
            tally: Tally::new(),
            made: AtomicUsize::new(0),
        })
    }

    /// The drop counter of a new work-item context.
    fn counted(&self) -> Counted {
        let id = self.made.fetch_add(1, Ordering::SeqCst);
        Counted::new(&self.tally, id)
    }

    /// `NICFreeRecvResources` at release: the pool's buffers, at PASSIVE_LEVEL.
    fn free_pool(&self, irql: &mut Passive<'_>) {
        let pool = self
            .rcv
            .lock(irql, |recv, _| std::mem::take(&mut recv.ready));
        for rfd in pool {
            rfd.buffer.free(irql);
        }
    }
}

// ---- The work items -------------------------------------------------------

/// `WORKER_ITEM_CONTEXT` of `NICAllocRfdWorkItem`.
struct AllocRfd {
    fdo: Arc<FdoData>,
    _counted: Counted,
}

/// `WORKER_ITEM_CONTEXT` of `NICFreeRfdWorkItem`: `Argument1` is the RFD
/// (`NICFreeRfd` needs nothing of `FdoData` once the buffer is its own).
struct FreeRfd {
    rfd: SpinLock<Option<Rfd>>,
    _counted: Counted,
}

/// `NICAllocRfdWorkItem`: one more RFD at PASSIVE_LEVEL, added to the pool
/// under `RcvLock`. Every path clears `AllocNewRfd` and deletes the item.
#[work_item(wdf)]
fn alloc_rfd_work(
    context: &AllocRfd,
    item: &RunningWdfWorkItem<'_, alloc_rfd_work>,
    irql: &mut Passive<'_>,
) {
    let fdo = &context.fdo;
    let buffer = CommonBuffer::create(&fdo.buffers, irql);
    fdo.rcv.lock(irql, |recv, _| {
        if let Ok(buffer) = buffer {
            recv.curr_num_rfd += 1;
            recv.ready.push_back(Rfd { buffer });
        }
        recv.alloc_new_rfd = false;
    });
    let deleted = item.delete();
    debug_assert!(deleted, "a one-shot item, left to its device");
}

/// `NICFreeRfdWorkItem`: frees the RFD's common buffer at PASSIVE_LEVEL.
#[work_item(wdf)]
fn free_rfd_work(
    context: &FreeRfd,
    item: &RunningWdfWorkItem<'_, free_rfd_work>,
    irql: &mut Passive<'_>,
) {
    if let Some(rfd) = context.rfd.lock(irql, |rfd, _| rfd.take()) {
        rfd.buffer.free(irql);
    }
    let deleted = item.delete();
    debug_assert!(deleted, "a one-shot item, left to its device");
}

/// `PciDrvQueuePassiveLevelCallback`: a one-shot item under the device,
/// enqueued and left to it (its callback deletes it). The context comes back
/// on failure.
fn queue_passive_level_callback<R>(
    device: &WdfDevice,
    context: R::Context,
    irql: &Dispatch<'_>,
) -> Result<(), CreateError<R::Context>>
where
    R: WdfRoutine<Parent = WdfDevice>,
{
    // WDF_WORKITEM_CONFIG_INIT: AutomaticSerialization TRUE; the device has
    // no synchronization scope, so no lock is taken.
    let item = WdfWorkItem::<R>::create(device, context, Serialization::Automatic, irql)?;
    // Given up before it is enqueued, so its callback may delete it.
    let enqueued = item.enqueue_and_leave(irql);
    debug_assert_eq!(enqueued, Enqueued::Queued, "a fresh item");
    Ok(())
}

// ---- The DPC's receive path -------------------------------------------------

/// What one receive DPC did.
#[derive(Debug, Default, PartialEq, Eq)]
struct Dpc {
    /// Grow items queued.
    grow: usize,
    /// Free items queued.
    shrink: usize,
    /// RFDs back in the pool because no free item could be created.
    returned_on_failure: usize,
    /// The status of a failed create.
    failed: Option<NTSTATUS>,
}

/// `NICHandleRecvInterrupt` with `NICServiceReadIrps`: `packets` RFDs
/// complete, their data goes to the read requests, each RFD goes back to the
/// pool or, when the pool is to shrink, to a free item; if the pool ran low,
/// one grow item. DISPATCH_LEVEL, `RcvLock` taken for each step.
/// `G` is the grow routine (the port's, or the sample's as written).
fn recv_dpc<G>(
    device: &WdfDevice,
    fdo: &Arc<FdoData>,
    packets: usize,
    irql: &mut Dispatch<'_>,
) -> Dpc
where
    G: WdfRoutine<Parent = WdfDevice, Context = AllocRfd>,
{
    let mut dpc = Dpc::default();
    let (completed, low) = fdo.rcv.lock(irql, |recv, _| {
        let n = packets.min(recv.ready.len());
        let completed: Vec<Rfd> = recv.ready.drain(..n).collect();
        (completed, recv.ready.len() < MIN_NUM_RFD)
    });
    // NICServiceReadIrps: the data is copied out, then each RFD, under the lock.
    for rfd in completed {
        fdo.rcv.lock(irql, |recv, dispatch| {
            if recv.shrink_count < RFD_SHRINK_THRESHOLD {
                recv.ready.push_back(rfd);
                return;
            }
            let context = FreeRfd {
                rfd: SpinLock::new(Some(rfd)),
                _counted: fdo.counted(),
            };
            match queue_passive_level_callback::<free_rfd_work>(device, context, dispatch) {
                Ok(()) => {
                    recv.shrink_count = 0;
                    recv.curr_num_rfd -= 1;
                    dpc.shrink += 1;
                }
                Err(refused) => {
                    // Back in the pool, to try again next time.
                    let rfd = refused
                        .context
                        .rfd
                        .into_inner()
                        .expect("the RFD comes back");
                    recv.ready.push_back(rfd);
                    dpc.returned_on_failure += 1;
                    dpc.failed = Some(refused.status);
                }
            }
        });
    }
    if low {
        fdo.rcv.lock(irql, |recv, dispatch| {
            if recv.curr_num_rfd < recv.max_num_rfd && !recv.alloc_new_rfd {
                recv.alloc_new_rfd = true;
                let context = AllocRfd {
                    fdo: Arc::clone(fdo),
                    _counted: fdo.counted(),
                };
                match queue_passive_level_callback::<G>(device, context, dispatch) {
                    Ok(()) => dpc.grow += 1,
                    Err(refused) => {
                        recv.alloc_new_rfd = false;
                        dpc.failed = Some(refused.status);
                    }
                }
            }
        });
    }
    dpc
}

/// Runs the DPC as the interrupt's EvtInterruptDpc would: at DISPATCH_LEVEL
/// (a driver makes the proof on entry: `unsafe { Dispatch::assume() }`).
fn interrupt(device: &WdfDevice, fdo: &Arc<FdoData>, packets: usize) -> Dpc {
    at_dispatch_level(|| recv_dpc::<alloc_rfd_work>(device, fdo, packets, &mut Dispatch::on_host()))
}

fn start(exec: &Executive, name: &str) -> (Driver, WdfDeviceHandle) {
    let driver = exec.load_driver(name);
    let device = driver.create_wdf_device(WdfDeviceConfig::default());
    (driver, device)
}

fn ready(fdo: &FdoData) -> usize {
    fdo.rcv
        .lock(&mut Passive::on_host(), |recv, _| recv.ready.len())
}

fn curr_num_rfd(fdo: &FdoData) -> u32 {
    fdo.rcv
        .lock(&mut Passive::on_host(), |recv, _| recv.curr_num_rfd)
}

/// After removal (`device.delete()`, which the caller made), release and
/// unload leave nothing: no item, no pool, no leaked buffer, every context
/// dropped once.
fn assert_clean_after_removal(exec: &Executive, driver: Driver, fdo: Arc<FdoData>) {
    fdo.free_pool(&mut Passive::on_host());
    let buffers = Arc::clone(&fdo.buffers);
    let tally = Arc::clone(&fdo.tally);
    let made = fdo.made.load(Ordering::SeqCst);
    drop(fdo);
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(
        buffers.created.load(Ordering::SeqCst),
        buffers.freed.load(Ordering::SeqCst),
        "every common buffer freed"
    );
    assert_eq!(buffers.leaked.load(Ordering::SeqCst), 0);
    assert_eq!(tally.dropped(), made, "every context dropped once");
    assert_eq!(
        (exec.io_work_items_outstanding(), exec.pool_outstanding()),
        (0, 0)
    );
    assert_eq!(exec.bug_check(), None);
}

fn set_shrink_count(fdo: &FdoData, count: u32) {
    fdo.rcv
        .lock(&mut Passive::on_host(), |recv, _| recv.shrink_count = count);
}

fn alloc_new_rfd(fdo: &FdoData) -> bool {
    fdo.rcv
        .lock(&mut Passive::on_host(), |recv, _| recv.alloc_new_rfd)
}

// ---- Tests -------------------------------------------------------------------

/// The pool runs low: the DPC queues one grow item, and `AllocNewRfd` keeps a
/// second interrupt from queueing another before it ran. The callback adds
/// one RFD and deletes its item (the `IO_WORKITEM` goes once it returned),
/// its context dropped once. At `MaxNumRfd` the pool stops growing.
#[test]
fn a_low_pool_grows_by_one_rfd_in_a_one_shot_item_that_deletes_itself() {
    let exec = Executive::manual();
    let (driver, handle) = start(&exec, "pcidrv.sys");
    let device = WdfDevice::of(&handle);
    let fdo = FdoData::new(6, 8, &Passive::on_host());

    let dpc = interrupt(device, &fdo, 3);
    assert_eq!(
        dpc,
        Dpc {
            grow: 1,
            ..Dpc::default()
        },
        "3 of 6 left: below the floor"
    );
    assert!(alloc_new_rfd(&fdo));
    assert_eq!(
        interrupt(device, &fdo, 3),
        Dpc::default(),
        "AllocNewRfd: one grow item at a time"
    );
    assert_eq!(exec.io_work_items_outstanding(), 1);
    assert_eq!(fdo.tally.dropped(), 0);

    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!((ready(&fdo), curr_num_rfd(&fdo)), (7, 7));
    assert!(!alloc_new_rfd(&fdo));
    assert_eq!(
        exec.io_work_items_outstanding(),
        0,
        "the callback deleted its item"
    );
    assert_eq!(fdo.tally.dropped(), 1, "its context dropped once");

    assert_eq!(interrupt(device, &fdo, 4).grow, 1);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(curr_num_rfd(&fdo), 8);
    assert_eq!(interrupt(device, &fdo, 5).grow, 0, "MaxNumRfd reached");
    assert_eq!(exec.run_until_idle(), 0);
    assert_eq!(fdo.buffers.created.load(Ordering::SeqCst), 8);
    handle.delete();
    assert_clean_after_removal(&exec, driver, fdo);
}

/// At the shrink threshold the read path hands an RFD to a free item (its
/// common buffer can only be freed at PASSIVE_LEVEL); the next RFDs go back
/// to the pool. The callback frees the buffer and deletes its item.
#[test]
fn at_the_shrink_threshold_an_rfd_is_freed_at_passive_level_by_its_own_item() {
    let exec = Executive::manual();
    let (driver, handle) = start(&exec, "pcidrv.sys");
    let device = WdfDevice::of(&handle);
    let fdo = FdoData::new(8, 8, &Passive::on_host());

    set_shrink_count(&fdo, RFD_SHRINK_THRESHOLD);
    let dpc = interrupt(device, &fdo, 3);
    assert_eq!(
        dpc,
        Dpc {
            shrink: 1,
            ..Dpc::default()
        },
        "one RFD, then the count restarts"
    );
    assert_eq!((ready(&fdo), curr_num_rfd(&fdo)), (7, 7));
    assert_eq!(
        fdo.buffers.freed.load(Ordering::SeqCst),
        0,
        "not freed at DISPATCH_LEVEL"
    );
    set_shrink_count(&fdo, RFD_SHRINK_THRESHOLD);
    assert_eq!(interrupt(device, &fdo, 1).shrink, 1);
    assert_eq!(exec.io_work_items_outstanding(), 2);

    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(fdo.buffers.freed.load(Ordering::SeqCst), 2);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_eq!(fdo.tally.dropped(), 2);
    assert_eq!((ready(&fdo), curr_num_rfd(&fdo)), (6, 6));
    handle.delete();
    assert_clean_after_removal(&exec, driver, fdo);
}

/// `NICAllocRfdWorkItem` as the sample writes it: when the lookaside
/// allocation fails it returns at once, before `AllocNewRfd = FALSE` and
/// before `WdfObjectDelete(WorkItem)`.
#[work_item(wdf)]
fn alloc_rfd_work_as_in_c(
    context: &AllocRfd,
    item: &RunningWdfWorkItem<'_, alloc_rfd_work_as_in_c>,
    irql: &mut Passive<'_>,
) {
    let fdo = &context.fdo;
    let Ok(buffer) = CommonBuffer::create(&fdo.buffers, irql) else {
        return;
    };
    fdo.rcv.lock(irql, |recv, _| {
        recv.curr_num_rfd += 1;
        recv.ready.push_back(Rfd { buffer });
    });
    fdo.rcv.lock(irql, |recv, _| recv.alloc_new_rfd = false);
    let deleted = item.delete();
    debug_assert!(deleted);
}

/// The C's early return, under low memory: the grow item stays alive under
/// the device until removal, and `AllocNewRfd` stays set, so the pool never
/// grows again. The port clears the flag and deletes the item on every path:
/// the next low interrupt grows the pool.
#[test]
fn the_samples_early_return_on_low_memory_leaves_its_item_and_stops_growth_the_port_does_not() {
    // As the sample wrote it.
    let exec = Executive::manual();
    let (driver, handle) = start(&exec, "pcidrv.sys");
    let device = WdfDevice::of(&handle);
    let fdo = FdoData::new(6, 8, &Passive::on_host());
    fdo.buffers.fail_next.store(true, Ordering::SeqCst);
    let low = |fdo: &Arc<FdoData>| {
        at_dispatch_level(|| {
            recv_dpc::<alloc_rfd_work_as_in_c>(device, fdo, 3, &mut Dispatch::on_host())
        })
    };
    assert_eq!(low(&fdo).grow, 1);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        exec.io_work_items_outstanding(),
        1,
        "the item was not deleted"
    );
    assert_eq!(fdo.tally.dropped(), 0);
    assert!(alloc_new_rfd(&fdo), "AllocNewRfd stuck");
    for _ in 0..3 {
        assert_eq!(low(&fdo).grow, 0, "the pool never grows again");
    }
    assert_eq!(curr_num_rfd(&fdo), 6);
    // The framework disposes the forgotten item only with its device.
    handle.delete();
    assert_clean_after_removal(&exec, driver, fdo);

    // The port.
    let exec = Executive::manual();
    let (driver, handle) = start(&exec, "pcidrv.sys");
    let device = WdfDevice::of(&handle);
    let fdo = FdoData::new(6, 8, &Passive::on_host());
    fdo.buffers.fail_next.store(true, Ordering::SeqCst);
    assert_eq!(interrupt(device, &fdo, 3).grow, 1);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(
        exec.io_work_items_outstanding(),
        0,
        "deleted on the failure path"
    );
    assert_eq!(fdo.tally.dropped(), 1);
    assert!(!alloc_new_rfd(&fdo));
    assert_eq!(curr_num_rfd(&fdo), 6, "nothing allocated this time");
    assert_eq!(
        interrupt(device, &fdo, 3).grow,
        1,
        "the next low interrupt retries"
    );
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(curr_num_rfd(&fdo), 7);
    handle.delete();
    assert_clean_after_removal(&exec, driver, fdo);
}

/// What each run's two `delete`s returned, and an `enqueue` after a delete
/// that succeeded.
type DeleteLog = Arc<std::sync::Mutex<Vec<(bool, bool, Option<Enqueued>)>>>;

struct DeleteMe {
    counted: Counted,
    log: DeleteLog,
}

#[work_item(wdf)]
fn delete_me(context: &DeleteMe, item: &RunningWdfWorkItem<'_, delete_me>) {
    context.counted.mark_ran();
    let first = item.delete();
    let second = item.delete();
    let enqueued = first.then(|| item.enqueue());
    context.log.lock().unwrap().push((first, second, enqueued));
}

/// The port of `WdfObjectDelete(WorkItem)` in the callback: a C author who
/// keeps the handle (here: the `WdfWorkItem`, not left to the device) and
/// deletes in the callback deletes twice, the second time through a freed
/// handle. `delete` refuses while a `WdfWorkItem` owns the item; for an item
/// left to its device it deletes once (a second call does nothing, and an
/// enqueue after it reports `Deleted`).
#[test]
fn delete_from_the_callback_refuses_an_item_the_driver_still_owns_and_deletes_a_left_one_once() {
    let exec = Executive::manual();
    let (driver, handle) = start(&exec, "pcidrv.sys");
    let device = WdfDevice::of(&handle);
    let irql = Passive::on_host();
    let tally = Tally::new();
    let log = DeleteLog::default();
    let context = || DeleteMe {
        counted: Counted::new(&tally, 0),
        log: Arc::clone(&log),
    };

    let owned = delete_me::create(device, context(), Serialization::None, &irql).unwrap();
    assert_eq!(owned.enqueue(&irql), Enqueued::Queued);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(log.lock().unwrap().pop(), Some((false, false, None)));
    assert_eq!(owned.enqueue(&irql), Enqueued::Queued, "still live");
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(tally.dropped(), 0);
    drop(owned);
    assert_eq!(tally.dropped(), 1, "the owner's drop deleted it, once");

    let left = delete_me::create(device, context(), Serialization::None, &irql).unwrap();
    assert_eq!(left.enqueue(&irql), Enqueued::Queued);
    left.leave_to_parent();
    assert_eq!(exec.run_until_idle(), 1, "nothing queued after the delete");
    assert_eq!(
        log.lock().unwrap().pop(),
        Some((true, false, Some(Enqueued::Deleted)))
    );
    assert_eq!(tally.ran(), 3);
    assert_eq!(
        tally.dropped(),
        2,
        "deleted in its callback, dropped after it"
    );
    assert_eq!(exec.io_work_items_outstanding(), 0);
    handle.delete();
    assert_eq!(tally.dropped(), 2, "nothing left under the device");
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}

std::thread_local! {
    /// What the device's cleanup callback works on, and what its DPC did.
    static REMOVING: std::cell::RefCell<(Option<Arc<FdoData>>, Option<Dpc>)> =
        const { std::cell::RefCell::new((None, None)) };
}

/// The device's EvtCleanupCallback, where a C author calls into the receive
/// path (as a DPC that runs late would): the device is being deleted.
unsafe extern "system" fn cleanup_calls_the_dpc(device: w::WDFOBJECT) {
    let fdo = REMOVING
        .with(|r| r.borrow().0.clone())
        .expect("set by the test");
    // SAFETY: the device being cleaned up: its memory lives until its
    // cleanup returned, longer than this borrow.
    let device = unsafe { WdfDevice::from_raw(device.cast()) };
    let dpc = interrupt(device, &fdo, 3);
    REMOVING.with(|r| r.borrow_mut().1 = Some(dpc));
}

/// Work queued under a device that is being removed: KMDF refuses the new
/// child (`AddChildObjectInternal`: `STATUS_DELETE_PENDING`), the port gets
/// its context back, so the RFD goes back to the pool (freed with it) and
/// `AllocNewRfd` is cleared, as the sample's failure paths do.
#[test]
fn work_queued_while_the_device_is_removed_is_delete_pending_and_the_rfd_comes_back() {
    let exec = Executive::manual();
    let driver = exec.load_driver("pcidrv.sys");
    let handle = driver.create_wdf_device(WdfDeviceConfig {
        cleanup: Some(cleanup_calls_the_dpc),
        ..WdfDeviceConfig::default()
    });
    let fdo = FdoData::new(6, 8, &Passive::on_host());
    set_shrink_count(&fdo, RFD_SHRINK_THRESHOLD);
    REMOVING.with(|r| r.borrow_mut().0 = Some(Arc::clone(&fdo)));
    handle.delete();
    let dpc = REMOVING
        .with(|r| r.borrow_mut().1.take())
        .expect("the cleanup ran");
    assert_eq!(
        dpc,
        Dpc {
            returned_on_failure: 3,
            failed: Some(w::STATUS_DELETE_PENDING),
            ..Dpc::default()
        }
    );
    assert_eq!((ready(&fdo), curr_num_rfd(&fdo)), (6, 6), "every RFD back");
    assert!(!alloc_new_rfd(&fdo), "the grow attempt was undone");
    assert_eq!(
        fdo.tally.dropped(),
        4,
        "3 free contexts and 1 grow context, back and dropped"
    );
    assert_eq!(exec.io_work_items_outstanding(), 0, "no item made");
    REMOVING.with(|r| r.borrow_mut().0 = None);
    fdo.free_pool(&mut Passive::on_host());
    assert_eq!(fdo.buffers.leaked.load(Ordering::SeqCst), 0);
    assert_eq!(
        fdo.buffers.freed.load(Ordering::SeqCst),
        fdo.buffers.created.load(Ordering::SeqCst)
    );
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}

/// PnP removal with free items queued and not run: the framework flushes
/// each child before the device's cleanup, so every RFD is freed at
/// PASSIVE_LEVEL by its callback before `delete` returns; no item is left.
#[test]
fn removal_with_free_items_queued_runs_each_before_the_device_goes() {
    let exec = Executive::new();
    let (driver, handle) = start(&exec, "pcidrv.sys");
    let device = WdfDevice::of(&handle);
    let fdo = FdoData::new(8, 8, &Passive::on_host());
    for _ in 0..3 {
        set_shrink_count(&fdo, RFD_SHRINK_THRESHOLD);
        assert_eq!(interrupt(device, &fdo, 1).shrink, 1);
    }
    handle.delete();
    assert_eq!(
        fdo.buffers.freed.load(Ordering::SeqCst),
        3,
        "every queued callback ran inside the removal"
    );
    // Each context goes at the item's last reference, which the worker drops
    // after its callback returned: possibly just after `delete` returned.
    exec.wait_idle();
    assert_eq!(fdo.tally.dropped(), 3);
    assert_eq!(exec.io_work_items_outstanding(), 0);
    assert_clean_after_removal(&exec, driver, fdo);
}
