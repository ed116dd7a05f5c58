//! The lock borrows the caller's PASSIVE_LEVEL proof for the locked scope:
//! under the lock the IRQL is DISPATCH_LEVEL, so the old proof cannot be used.

use ntwork::irql::Passive;
use ntwork::{ReusableExWorkItem, Rundown, SpinLock};

static WORK: Rundown = Rundown::new();

#[ntwork::work_item]
fn rescan(changes: &u32) {
    let _ = changes;
}

static RESCAN: ReusableExWorkItem<rescan> = ReusableExWorkItem::new(&WORK, 0);
static STATE: SpinLock<u32> = SpinLock::new(0);

fn stop(irql: &mut Passive<'_>) {
    STATE.lock(irql, |state, _| {
        *state = 0;
        RESCAN.flush(irql);
    });
}

fn main() {
    let _ = stop;
}
