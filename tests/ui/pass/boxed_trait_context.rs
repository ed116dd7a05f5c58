//! Boxed trait-object contexts that are `Send`: written with `+ Send`, or a
//! trait of the driver's whose supertrait is `Send` (the attribute cannot
//! see that, so it leaves the check to rustc, which passes it).

use ntwork::irql::Passive;
use ntwork::{Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

/// A job of the driver's: `Send` by its supertrait.
trait Job: Send {
    fn run(self: Box<Self>);
}

#[work_item]
fn run_job(job: Box<dyn Job>) {
    job.run();
}

#[work_item]
fn run_closure(job: Box<dyn FnOnce() + Send>) {
    job();
}

struct Print;

impl Job for Print {
    fn run(self: Box<Self>) {}
}

/// Queues both (not run here: no executive).
fn queue_both(irql: &Passive<'_>) {
    let _ = run_job::queue(&WORK, Box::new(Print), WorkQueue::Delayed, irql);
    let _ = run_closure::queue(&WORK, Box::new(|| {}), WorkQueue::Delayed, irql);
}

fn main() {
    let _ = queue_both;
}
