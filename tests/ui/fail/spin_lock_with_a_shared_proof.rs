//! A routine that takes a `SpinLock` with the shared proof `&Passive<'_>`:
//! rustc's one E0308 at the argument ("types differ in mutability"); the
//! routine asks for `irql: &mut Passive<'_>`. Listed in docs/checks.md.
use ntwork::irql::Passive;
use ntwork::{SpinLock, work_item};

static TOTAL: SpinLock<u64> = SpinLock::new(0);

#[work_item]
fn add(amount: u64, irql: &Passive<'_>) {
    TOTAL.lock(irql, |total, _| *total += amount);
}

fn main() {}
