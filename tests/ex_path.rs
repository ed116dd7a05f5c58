//! The safe Ex path on the host executive: ownership, drops, reuse, failures.

use ntwork::irql::Passive;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ntwork::{ExWorkItem, NotQueued, ReusableExWorkItem, WorkQueue, ffi, work_item};
use ntwork_host::{Executive, FailurePlan, FaultSite, bugcheck};
use ntwork_suite::{Counted, Tally};

#[work_item]
fn count(context: Counted) {
    context.mark_ran();
}

#[test]
fn an_owned_item_runs_once_and_drops_its_context_once() {
    static WORK: ntwork::Rundown = ntwork::Rundown::new();
    let exec = Executive::manual();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "an_owned_item_runs_once_and_drops_its_context_once.sys",
        &[&WORK],
    );
    let tally = Tally::new();
    count::queue(
        &WORK,
        Counted::new(&tally, 7),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    assert_eq!(
        (tally.ran(), tally.dropped()),
        (0, 0),
        "manual mode runs nothing by itself"
    );
    assert_eq!(exec.pending_in(WorkQueue::Delayed.as_raw()), 1);
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
    assert_eq!(exec.pool_outstanding(), 0, "the block was freed");
    assert_eq!(exec.bug_check(), None);
}

#[test]
fn ten_thousand_items_from_several_threads_each_run_once() {
    static WORK: ntwork::Rundown = ntwork::Rundown::new();
    const THREADS: usize = 4;
    const PER_THREAD: usize = 2_500;
    let exec = Executive::new();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "ten_thousand_items_from_several_threads_each_run_once.sys",
        &[&WORK],
    );
    let tally = Tally::new();
    let seen: Arc<Vec<AtomicUsize>> = Arc::new(
        (0..THREADS * PER_THREAD)
            .map(|_| AtomicUsize::new(0))
            .collect(),
    );

    #[work_item]
    fn record(context: (Counted, Arc<Vec<AtomicUsize>>)) {
        let (counted, seen) = context;
        seen[counted.id].fetch_add(1, Ordering::SeqCst);
        counted.mark_ran();
    }

    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (exec, tally, seen) = (&exec, &tally, &seen);
            s.spawn(move || {
                let _bound = exec.enter();
                for i in 0..PER_THREAD {
                    let id = t * PER_THREAD + i;
                    let queue = WorkQueue::FIXED[id % WorkQueue::FIXED.len()];
                    record::queue(
                        &WORK,
                        (Counted::new(tally, id), Arc::clone(seen)),
                        queue,
                        &Passive::on_host(),
                    )
                    .unwrap();
                }
            });
        }
    });
    exec.wait_idle();
    assert_eq!(exec.bug_check(), None);
    assert_eq!(tally.ran(), THREADS * PER_THREAD);
    assert_eq!(tally.dropped(), THREADS * PER_THREAD);
    assert!(
        seen.iter().all(|n| n.load(Ordering::SeqCst) == 1),
        "each ran exactly once"
    );
    assert_eq!(exec.pool_outstanding(), 0);
}

#[test]
fn an_item_dropped_unqueued_drops_its_context_and_frees_its_block() {
    let exec = Executive::manual();
    let tally = Tally::new();
    let item = count::new(Counted::new(&tally, 1), &Passive::on_host()).unwrap();
    assert_eq!(item.context().id, 1);
    assert_eq!(exec.pool_outstanding(), 1);
    drop(item);
    assert_eq!((tally.ran(), tally.dropped()), (0, 1));
    assert_eq!(exec.pool_outstanding(), 0);
}

#[test]
fn into_context_gives_the_context_back_without_running() {
    let exec = Executive::manual();
    let tally = Tally::new();
    let mut item: ExWorkItem<count> =
        count::new(Counted::new(&tally, 1), &Passive::on_host()).unwrap();
    item.context_mut().id = 9;
    let context = item.into_context();
    assert_eq!(context.id, 9);
    assert_eq!(exec.pool_outstanding(), 0);
    drop(context);
    assert_eq!(exec.run_until_idle(), 0);
    assert_eq!((tally.ran(), tally.dropped()), (0, 1));
}

#[test]
fn a_failed_allocation_is_an_err_that_returns_the_context() {
    static WORK: ntwork::Rundown = ntwork::Rundown::new();
    let exec = Executive::manual();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "a_failed_allocation_is_an_err_that_returns_the_context.sys",
        &[&WORK],
    );
    let tally = Tally::new();
    exec.fail_allocations(FaultSite::Pool, FailurePlan::Next(1));
    let err = count::queue(
        &WORK,
        Counted::new(&tally, 3),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "out of nonpaged pool for a work item");
    let context = err.into_inner();
    assert_eq!(context.id, 3);
    assert_eq!(tally.dropped(), 0, "nothing was lost");
    assert_eq!(exec.pool_outstanding(), 0);
    // The next allocation succeeds again.
    count::queue(&WORK, context, WorkQueue::Delayed, &Passive::on_host()).unwrap();
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
}

#[test]
fn initialize_types_a_raw_item_for_ex_queue_work_item() {
    let exec = Executive::manual();
    let tally = Tally::new();
    let mut item = Box::new(ffi::WORK_QUEUE_ITEM::new());
    // SAFETY: the boxed item is writable, unqueued, outlives its run below, and
    // is queued once.
    unsafe {
        count::initialize(&mut *item, Counted::new(&tally, 5)).unwrap();
        assert_eq!(
            item.WorkerRoutine.map(|f| f as *const () as usize),
            Some(count::ROUTINE as *const () as usize)
        );
        ffi::ExQueueWorkItem(&mut *item, ffi::DelayedWorkQueue);
    }
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
    assert!(item.List.Flink.is_null(), "dequeued before the routine ran");
}

#[work_item]
fn tick(count: &AtomicUsize) {
    count.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_reusable_item_refuses_a_second_queue_while_pending() {
    static WORK: ntwork::Rundown = ntwork::Rundown::new();
    static ITEM: ReusableExWorkItem<tick> = ReusableExWorkItem::new(&WORK, AtomicUsize::new(0));
    let exec = Executive::manual();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "a_reusable_item_refuses_a_second_queue_while_pending.sys",
        &[&WORK],
    );
    ITEM.queue_static(WorkQueue::Delayed, &Passive::on_host())
        .unwrap();
    assert!(ITEM.is_pending());
    assert_eq!(
        ITEM.queue_static(WorkQueue::Delayed, &Passive::on_host()),
        Err(NotQueued::AlreadyQueued)
    );
    assert_eq!(exec.pending(), 1);
    assert_eq!(exec.run_until_idle(), 1);
    assert!(!ITEM.is_pending());
    ITEM.queue_static(WorkQueue::Critical, &Passive::on_host())
        .unwrap();
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!(ITEM.context().load(Ordering::SeqCst), 2);
    assert_eq!(exec.bug_check(), None);
}

struct Countdown {
    left: AtomicUsize,
    runs: AtomicUsize,
    me: std::sync::OnceLock<std::sync::Weak<ReusableExWorkItem<countdown>>>,
}

#[work_item]
fn countdown(state: &Countdown) {
    state.runs.fetch_add(1, Ordering::SeqCst);
    if state.left.fetch_sub(1, Ordering::SeqCst) > 1 {
        let me = state.me.get().and_then(std::sync::Weak::upgrade).unwrap();
        me.queue(WorkQueue::Delayed, &Passive::on_host())
            .expect("the pending flag clears before the routine runs");
    }
}

#[test]
fn a_reusable_item_may_requeue_itself_and_the_queue_holds_its_reference() {
    static WORK: ntwork::Rundown = ntwork::Rundown::new();
    let exec = Executive::manual();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "a_reusable_item_may_requeue_itself_and_the_queue_holds_its_reference.sys",
        &[&WORK],
    );
    let item = Arc::new(ReusableExWorkItem::<countdown>::new(
        &WORK,
        Countdown {
            left: AtomicUsize::new(5),
            runs: AtomicUsize::new(0),
            me: std::sync::OnceLock::new(),
        },
    ));
    item.context().me.set(Arc::downgrade(&item)).unwrap();
    item.queue(WorkQueue::Delayed, &Passive::on_host()).unwrap();
    assert_eq!(Arc::strong_count(&item), 2, "the queue holds one reference");
    assert_eq!(exec.run_until_idle(), 5);
    assert_eq!(item.context().runs.load(Ordering::SeqCst), 5);
    assert_eq!(
        Arc::strong_count(&item),
        1,
        "taken back exactly once per run"
    );
}

#[work_item]
fn explode(context: Counted) {
    context.mark_ran();
    panic!("routine failed");
}

#[test]
fn a_panicking_routine_is_a_bug_check_not_a_crash() {
    static WORK: ntwork::Rundown = ntwork::Rundown::new();
    let exec = Executive::manual();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "a_panicking_routine_is_a_bug_check_not_a_crash.sys",
        &[&WORK],
    );
    let tally = Tally::new();
    explode::queue(
        &WORK,
        Counted::new(&tally, 0),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    count::queue(
        &WORK,
        Counted::new(&tally, 1),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap();
    exec.run_until_idle();
    let check = exec.expect_bug_check();
    assert_eq!(check.code, bugcheck::HOST_RUST_PANIC);
    assert_eq!(
        (tally.ran(), tally.dropped()),
        (1, 1),
        "the context unwound once; nothing else ran"
    );
}

#[work_item]
fn unit() {}

#[test]
fn a_routine_without_context_queues_without_allocating_a_context() {
    static WORK: ntwork::Rundown = ntwork::Rundown::new();
    let exec = Executive::manual();
    let _driver = ntwork_suite::load_ex_driver(
        &exec,
        "a_routine_without_context_queues_without_allocating_a_context.sys",
        &[&WORK],
    );
    let item = unit::new(&Passive::on_host()).unwrap();
    item.queue(
        &WORK,
        WorkQueue::custom_priority(20).unwrap(),
        &Passive::on_host(),
    )
    .unwrap();
    assert_eq!(
        exec.pending_in(WorkQueue::custom_priority(20).unwrap().as_raw()),
        1
    );
    unit::queue(&WORK, WorkQueue::Background, &Passive::on_host()).unwrap();
    assert_eq!(exec.run_until_idle(), 2);
    assert_eq!(exec.pool_outstanding(), 0);
}

static OWN: ntwork::Rundown = ntwork::Rundown::new();

#[work_item(rundown = OWN)]
fn count_in_own(context: Counted) {
    context.mark_ran();
}

#[test]
fn a_failed_allocation_under_a_stated_rundown_releases_it_and_returns_the_context() {
    let exec = Executive::manual();
    let _driver = ntwork_suite::load_ex_driver(&exec, "own.sys", &[&OWN]);
    let tally = Tally::new();
    exec.fail_allocations(FaultSite::Pool, FailurePlan::Next(1));
    let err = count_in_own::queue(
        Counted::new(&tally, 7),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap_err();
    let context = err.into_inner();
    assert_eq!((context.id, tally.dropped()), (7, 0), "nothing was lost");
    count_in_own::queue(context, WorkQueue::Delayed, &Passive::on_host()).unwrap();
    assert_eq!(exec.run_until_idle(), 1);
    assert_eq!((tally.ran(), tally.dropped()), (1, 1));
    // Nothing is counted any more: the failed queue released what it took.
    OWN.wait(&Passive::on_host());
    assert_eq!((exec.bug_check(), exec.pool_outstanding()), (None, 0));
}

/// A driver without DriverUnload: its Ex work counts nowhere.
// SAFETY: the test executive never unloads this test's code while it runs.
#[work_item(unsafe(never_unloads))]
fn count_forever(context: Counted) {
    context.mark_ran();
}

#[test]
fn a_routine_of_a_driver_that_never_unloads_queues_without_a_rundown() {
    let exec = Executive::manual();
    let tally = Tally::new();
    for id in 0..3 {
        count_forever::queue(
            Counted::new(&tally, id),
            WorkQueue::Delayed,
            &Passive::on_host(),
        )
        .unwrap();
    }
    assert_eq!(exec.run_until_idle(), 3);
    assert_eq!((tally.ran(), tally.dropped()), (3, 3));
    // Low resources: the context comes back, nothing is lost.
    exec.fail_allocations(FaultSite::Pool, FailurePlan::Next(1));
    let back = count_forever::queue(
        Counted::new(&tally, 9),
        WorkQueue::Delayed,
        &Passive::on_host(),
    )
    .unwrap_err()
    .into_inner();
    assert_eq!((back.id, tally.dropped()), (9, 3));
    drop(back);
    assert_eq!((exec.bug_check(), exec.pool_outstanding()), (None, 0));
}

/// Tests that load the same driver, one after the other, each on its own
/// thread (as the harness runs them): a new driver object may be allocated
/// where an unloaded owner of the driver's static rundown was. Before the fix
/// `open` took the new object for that unloaded owner and answered
/// `OpenError::Unloading` (STATUS_DELETE_PENDING from a DriverEntry) whenever
/// the allocator reused the address, which glibc's does here from the second
/// round on; ASan's quarantine does not, so reuse is reported, not required.
#[test]
fn a_driver_object_at_an_unloaded_owners_address_opens_the_rundown_anew() {
    static WORK: ntwork::Rundown = ntwork::Rundown::new();
    let mut seen = std::collections::HashSet::new();
    let mut reused = 0;
    for round in 0..8 {
        // A thread per load, as the test harness runs each test: the
        // executive's memory goes with it.
        let address = std::thread::spawn(move || {
            let exec = Executive::manual();
            let driver = exec.load_driver("reloaded.sys");
            let object = ntwork_suite::driver_object(&driver);
            let irql = Passive::on_host();
            object.set_unload(|_, _| {}, &irql).unwrap();
            assert_eq!(WORK.open(object, &irql), Ok(()), "round {round}");
            let tally = Tally::new();
            count::queue(
                &WORK,
                Counted::new(&tally, round),
                WorkQueue::Delayed,
                &irql,
            )
            .unwrap();
            assert_eq!(exec.run_until_idle(), 1);
            assert_eq!(tally.ran(), 1);
            let address = driver.as_raw() as usize;
            driver.unload().unwrap();
            assert!(WORK.is_running_down(), "the unload waited for it");
            assert_eq!(exec.bug_check(), None);
            address
        })
        .join()
        .unwrap();
        if !seen.insert(address) {
            reused += 1;
        }
    }
    println!("driver object addresses reused: {reused} of 7");
}
