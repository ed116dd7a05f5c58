//! The attribute twice on one routine (a merge that kept both lines).

use ntwork::irql::Passive;
use ntwork::work_item;

#[work_item]
#[work_item(ex)]
fn rescan(count: u32) {
    let _ = count;
}

fn main() {
    let _ = rescan::new(1, &Passive::on_host());
}
