//! A port that passes the IRP as a raw pointer: the one error names the
//! `Send` newtype; the queue call written for it adds none.

use ntwork::irql::Passive;
use core::ffi::c_void;

use ntwork::{Rundown, WorkQueue, work_item};

static WORK: Rundown = Rundown::new();

#[work_item]
fn complete_later(irp: *mut c_void) {
    let _ = irp;
}

fn on_dispatch(irp: *mut c_void) {
    let _ = complete_later::queue(&WORK, irp, WorkQueue::Delayed, &Passive::on_host());
}

fn main() {
    let _ = on_dispatch;
}
