//! A rundown wait blocks: IRQL <= APC_LEVEL (ExWaitForRundownProtectionRelease).

use ntwork::Rundown;
use ntwork::irql::Dispatch;

static WORK: Rundown = Rundown::new();

fn dpc(irql: &Dispatch<'_>) {
    WORK.wait(irql);
}

fn main() {
    let _ = dpc;
}
