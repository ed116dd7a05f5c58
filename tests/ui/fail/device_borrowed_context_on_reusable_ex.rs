//! A device routine that borrows its context, used as a reusable Ex item, as
//! an Ex routine borrows it: the shape is the one error. The stand-in serves
//! both readings the error names (the device routine owning `u32`, or an Ex
//! routine borrowing it from a `ReusableExWorkItem`), so the static and its
//! queue call add none (they were three more errors: `ExRoutineRef` not
//! implemented, the context expected as `&'static u32`, and `queue_static`'s
//! bound).

use ntwork::irql::Passive;
use ntwork::{DeviceObject, ReusableExWorkItem, Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item(device)]
fn tick(device: &DeviceObject, count: &u32) {
    let _ = (device, count);
}

static TICK: ReusableExWorkItem<tick> = ReusableExWorkItem::new(&WORK, 0);

fn main() {
    let _ = TICK.queue_static(WorkQueue::Delayed, &Passive::on_host());
}
