//! Safe attacker programs against the Ex path and unload, the Io path and
//! KMDF items, beyond what `soundness.rs`, `soundness_v3.rs` and
//! `adversarial.rs` cover. Each asserts what would fail if the attack got
//! through (and runs under ASan in `.ci/run`).

use ntwork::irql::Passive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ntwork::wdf::{Serialization, WdfDevice, WdfWorkItemRef};
use ntwork::{
    DeviceObject, QueueError, ReusableIoWorkItem, Rundown, RunningIoWorkItem, WorkQueue, work_item,
};
use ntwork_host::Executive;
use ntwork_host::wdf::WdfDeviceConfig;
use ntwork_suite::{Counted, Tally, load_ex_driver, object};

// ---- Ex: a routine that queues itself while the unload waits --------------

static SELF_QUEUE: Rundown = Rundown::new();
static SELF_QUEUE_REFUSED: AtomicUsize = AtomicUsize::new(0);
static SELF_QUEUE_RAN: AtomicUsize = AtomicUsize::new(0);

#[work_item(rundown = SELF_QUEUE)]
fn requeues_itself(round: u32, irql: &mut Passive<'_>) {
    SELF_QUEUE_RAN.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(2));
    match requeues_itself::queue(round + 1, WorkQueue::Delayed, irql) {
        Ok(()) => {}
        Err(QueueError::Unloading(_)) => {
            SELF_QUEUE_REFUSED.fetch_add(1, Ordering::SeqCst);
        }
        Err(other) => panic!("unexpected refusal {other:?}"),
    }
}

/// The unload's wait refuses the requeue of a routine that requeues itself
/// for ever; the unload returns only after the last run, and no run starts
/// after it.
#[test]
fn an_ex_routine_that_requeues_itself_for_ever_is_stopped_by_the_unload() {
    let exec = Executive::new();
    let driver = load_ex_driver(&exec, "selfqueue.sys", &[&SELF_QUEUE]);
    requeues_itself::queue(0, WorkQueue::Delayed, &Passive::on_host()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(30));
    {
        let _bound = exec.enter();
        driver.unload().expect("unload");
    }
    let ran = SELF_QUEUE_RAN.load(Ordering::SeqCst);
    assert_eq!(SELF_QUEUE_REFUSED.load(Ordering::SeqCst), 1);
    std::thread::sleep(std::time::Duration::from_millis(30));
    assert_eq!(
        SELF_QUEUE_RAN.load(Ordering::SeqCst),
        ran,
        "a run after the unload"
    );
    assert!(!SELF_QUEUE.reopen(), "reopened after the unload");
    assert_eq!(exec.bug_check(), None);
}

// ---- Ex: a user's wait/reopen racing the unload and queueing threads ------

static RACED: Rundown = Rundown::new();
static RACED_RUNNING: AtomicUsize = AtomicUsize::new(0);
static RACED_AFTER_UNLOAD: AtomicBool = AtomicBool::new(false);
static UNLOADED: AtomicBool = AtomicBool::new(false);

#[work_item(rundown = RACED)]
fn raced(_: u32) {
    RACED_RUNNING.fetch_add(1, Ordering::SeqCst);
    if UNLOADED.load(Ordering::SeqCst) {
        RACED_AFTER_UNLOAD.store(true, Ordering::SeqCst);
    }
    std::thread::yield_now();
    if UNLOADED.load(Ordering::SeqCst) {
        RACED_AFTER_UNLOAD.store(true, Ordering::SeqCst);
    }
}

/// Queuers, a subsystem's wait-and-reopen and a second `open` race the
/// unload: no routine runs once the unload returned, and nothing reopens.
#[test]
fn wait_reopen_and_open_racing_the_unload_leave_nothing_running() {
    let exec = Executive::new();
    let host_driver = load_ex_driver(&exec, "raced.sys", &[&RACED]);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let _bound = exec.enter();
                while !stop.load(Ordering::SeqCst) {
                    let _ = raced::queue(0, WorkQueue::Delayed, &Passive::on_host());
                }
            });
        }
        s.spawn(|| {
            let _bound = exec.enter();
            while !stop.load(Ordering::SeqCst) {
                RACED.wait(&Passive::on_host());
                RACED.reopen();
                let _ = RACED.open(
                    ntwork_suite::driver_object(&host_driver),
                    &Passive::on_host(),
                );
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(40));
        {
            let _bound = exec.enter();
            let raw = host_driver.as_raw();
            // SAFETY-free: the host's own unload of the driver.
            let _ = raw;
            ntwork_suite::driver_object(&host_driver).wait_for_rundowns(&Passive::on_host());
        }
        UNLOADED.store(true, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(20));
        stop.store(true, Ordering::SeqCst);
    });
    assert!(
        !RACED_AFTER_UNLOAD.load(Ordering::SeqCst),
        "a routine ran after the rundowns were waited for, for good"
    );
    assert!(!RACED.reopen());
    assert!(RACED_RUNNING.load(Ordering::SeqCst) > 0);
    {
        let _bound = exec.enter();
        host_driver.unload().expect("unload");
    }
    assert_eq!(exec.bug_check(), None);
}

// ---- Io: a lent item requeued after its device was deleted ----------------

#[work_item(device)]
fn requeue_after_delete(
    device: &DeviceObject,
    context: (Counted, u32),
    item: RunningIoWorkItem<'_, requeue_after_delete>,
) {
    let (counted, round) = context;
    counted.mark_ran();
    let _ = device;
    if round < 3 {
        item.queue((counted, round + 1), WorkQueue::Delayed);
    }
}

/// The host deletes the device (PnP removal) while the lent item is queued;
/// the routine keeps requeueing it on the deleted device: the queue's
/// reference keeps the object, and everything is freed once, at the end.
#[test]
fn a_lent_item_requeued_on_a_deleted_device_keeps_it_until_the_last_run() {
    let exec = Executive::manual();
    let driver = exec.load_driver("deleted.sys");
    let device = driver.create_device();
    let tally = Tally::new();
    requeue_after_delete::queue(
        object(&device),
        (Counted::new(&tally, 0), 0),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    device.delete();
    assert!(!device.is_freed(), "the queue references the device");
    exec.run_until_idle();
    assert_eq!(tally.ran(), 4);
    assert_eq!(tally.dropped(), 1);
    assert!(device.is_freed() || device.reference_count() == 1);
    assert_eq!(exec.bug_check(), None);
}

// ---- Io: a reusable item queued from another thread while its routine drops
// ---- its own handle -------------------------------------------------------

#[work_item(device)]
fn drops_a_handle(
    _device: &DeviceObject,
    context: (Arc<ReusableIoWorkItem<drops_a_handle>>, Counted),
) {
    let (item, counted) = context;
    counted.mark_ran();
    drop(item);
}

/// Four threads queue one reusable item whose routine drops the `Arc` it was
/// handed; the test drops its own while they run: the block is freed once,
/// by whoever comes last, and each accepted queue ran once.
#[test]
fn a_reusable_io_item_whose_handles_drop_everywhere_is_freed_once() {
    let exec = Executive::new();
    let driver = exec.load_driver("handles.sys");
    let device = driver.create_device();
    let tally = Tally::new();
    let item = Arc::new(
        ReusableIoWorkItem::<drops_a_handle>::new(object(&device), &Passive::on_host()).unwrap(),
    );
    let accepted = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..4 {
            let item = Arc::clone(&item);
            let (tally, accepted, exec) = (&tally, &accepted, &exec);
            s.spawn(move || {
                let _bound = exec.enter();
                for i in 0..200 {
                    let context = (Arc::clone(&item), Counted::new(tally, t * 1000 + i));
                    if item
                        .queue(context, WorkQueue::Delayed, &Passive::on_host())
                        .is_ok()
                    {
                        accepted.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    drop(item);
    exec.wait_idle();
    assert_eq!(tally.ran(), accepted.load(Ordering::SeqCst));
    assert_eq!(tally.dropped(), 800, "every context dropped once");
    device.delete();
    assert!(device.is_freed(), "the item gave up its reference");
    assert_eq!(exec.bug_check(), None);
}

// ---- KMDF: a kept item's reference across its parent's removal ------------

static KEPT_DROPPED: AtomicBool = AtomicBool::new(false);

struct Watched {
    data: Vec<u64>,
}

impl Drop for Watched {
    fn drop(&mut self) {
        KEPT_DROPPED.store(true, Ordering::SeqCst);
    }
}

#[work_item(wdf)]
fn kept_watched(context: &Watched) {
    assert_eq!(context.data.len(), 4);
}

/// `WdfWorkItemRef::kept` lends the context for the parent's borrow. Before
/// the fix the reference it returned held no framework reference: the
/// parent's removal (`WdfDeviceHandle::delete`, during the borrow that
/// `WdfDevice::of` says a deleted device may outlive) ran the parent's
/// cleanup, which dropped the kept reference, and the context was dropped
/// while the `WdfWorkItemRef` still lent it. Now the ref holds its own.
#[test]
fn a_kept_item_ref_does_not_lend_its_context_past_the_parents_removal() {
    let exec = Executive::manual();
    let driver = exec.load_driver("keptref.sys");
    let handle = driver.create_wdf_device(WdfDeviceConfig::default());
    let device = WdfDevice::of(&handle);
    kept_watched::create(
        device,
        Watched {
            data: vec![1, 2, 3, 4],
        },
        Serialization::None,
        &Passive::on_host(),
    )
    .unwrap()
    .keep_in_parent(&Passive::on_host())
    .unwrap();
    let kept = WdfWorkItemRef::<kept_watched>::kept(device).expect("kept");
    let context = kept.context();
    handle.delete();
    assert!(
        !KEPT_DROPPED.load(Ordering::SeqCst),
        "the context was dropped while a safe reference to it lives"
    );
    assert_eq!(context.data.iter().sum::<u64>(), 10);
    drop(kept);
    assert!(
        KEPT_DROPPED.load(Ordering::SeqCst),
        "dropped at the last reference"
    );
    assert_eq!(driver.unload(), Ok(()));
    assert_eq!(exec.bug_check(), None);
}
