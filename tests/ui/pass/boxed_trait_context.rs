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

/// Traits of the driver's named like std's, with `Send` as a supertrait.
mod jobs {
    pub trait Error: Send {
        fn report(self: Box<Self>);
    }
    pub trait Display: Send + Sync {}
}

#[work_item]
fn report(job: Box<dyn jobs::Error>) {
    job.report();
}

#[work_item]
fn show(shown: std::sync::Arc<dyn jobs::Display>) {
    let _ = shown;
}

/// A trait of the driver's imported under a std name.
mod imported {
    pub trait Error: Send {}
}
use imported::Error;

#[work_item]
fn imported_error(error: Box<dyn Error>) {
    let _ = error;
}
