//! Where a KMDF routine's context lives is what the runtime trusts: a safe
//! hand-written impl cannot say it.

use ntwork::Routine;
use ntwork::wdf::{RunningWdfWorkItem, WdfDevice, WdfRoutine};

struct Drain;

impl Routine for Drain {
    type Context = u32;
}

impl WdfRoutine for Drain {
    type Parent = WdfDevice;

    fn run(_item: &RunningWdfWorkItem<'_, Self>, _irql: &mut ntwork::irql::Passive<'_>) {}
}

fn main() {}
