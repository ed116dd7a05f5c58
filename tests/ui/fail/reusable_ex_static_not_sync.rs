//! A reusable Ex item in a `static` whose context is not `Sync`: one error,
//! at `new` (`SharedContext`), not also at the static and at `queue_static`.

use ntwork::irql::Passive;
use std::cell::Cell;

use ntwork::{ReusableExWorkItem, Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item]
fn tick(count: &Cell<u32>) {
    count.set(count.get() + 1);
}

static TICK: ReusableExWorkItem<tick> = ReusableExWorkItem::new(&WORK, Cell::new(0));

fn main() {
    let _ = TICK.queue_static(WorkQueue::Delayed, &Passive::on_host());
}
