//! Every Ex shape: owned, borrowed, unit, `&'static`, and the generated API.

use std::sync::atomic::{AtomicU32, Ordering};

use ntwork::irql::Dispatch;
use ntwork::{
    AllocError, ExRoutine, ExRoutineRef, ExWorkItem, QueueError, ReusableExWorkItem, Rundown, WorkQueue,
    ffi, work_item,
};

#[work_item]
fn owned(batch: Vec<u8>) {
    assert!(!batch.is_empty());
}

#[work_item]
fn borrowed(count: &AtomicU32) {
    count.fetch_add(1, Ordering::Relaxed);
}

#[work_item(ex)]
fn unit() {}

#[work_item]
fn static_ref(name: &'static str) {
    assert!(!name.is_empty());
}

#[work_item]
fn boxed(callback: Box<dyn Fn(&str) + Send>) {
    callback("done");
}

#[work_item]
pub fn public(mut counter: u64) {
    counter += 1;
    let _ = counter;
}

static UNLOAD: Rundown = Rundown::new();
static TICK: ReusableExWorkItem<borrowed> = ReusableExWorkItem::new(&UNLOAD, AtomicU32::new(0));
static UNIT: ReusableExWorkItem<unit> = ReusableExWorkItem::new(&UNLOAD, ());

fn assert_ex<R: ExRoutine>() {}
fn assert_ref<R: ExRoutineRef>() {}

fn main() {
    assert_ex::<owned>();
    assert_ex::<static_ref>();
    assert_ref::<borrowed>();
    assert_ref::<unit>();
    let _: ffi::WORKER_THREAD_ROUTINE = owned::ROUTINE;
    let _: ffi::PWORKER_THREAD_ROUTINE = Some(unit::ROUTINE);
    let _: fn(Vec<u8>, &Dispatch<'static>) -> Result<ExWorkItem<owned>, AllocError<Vec<u8>>> = owned::new;
    let _: fn(&'static Rundown, AtomicU32, WorkQueue, &Dispatch<'static>) -> Result<(), QueueError<AtomicU32>> =
        borrowed::queue;
    let _: fn(&Dispatch<'static>) -> Result<ExWorkItem<unit>, AllocError> = unit::new;
    let _: fn(&'static Rundown, WorkQueue, &Dispatch<'static>) -> Result<(), QueueError> = unit::queue;
    let _: unsafe fn(
        *mut ffi::WORK_QUEUE_ITEM,
        &'static str,
    ) -> Result<(), AllocError<&'static str>> = static_ref::initialize;
    let _: unsafe fn(*mut ffi::WORK_QUEUE_ITEM) -> Result<(), AllocError> = unit::initialize;
    let _ = (&TICK, &UNIT, boxed::ROUTINE, public::ROUTINE);
    // The function stays callable.
    owned(vec![1]);
    unit();
}
