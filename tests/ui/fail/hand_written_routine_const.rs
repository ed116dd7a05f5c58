//! The routine ntwork hands the kernel is its own: a hand-written impl
//! cannot name another one.

use ntwork::{ExRoutine, Routine, ffi};

struct Flush;

impl Routine for Flush {
    type Context = Vec<u8>;
}

impl ExRoutine for Flush {
    const ROUTINE: ffi::WORKER_THREAD_ROUTINE = ntwork::raw::ex_routine::<Flush>();

    fn run(_batch: Vec<u8>, _irql: &mut ntwork::irql::Passive<'_>) {}
}

fn main() {}
