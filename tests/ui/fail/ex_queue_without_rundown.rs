// Ex work is always counted in a rundown that DriverUnload waits for: there
// is no way to queue it without one.
use ntwork::irql::Passive;
use ntwork::{WorkQueue, work_item};

#[work_item]
fn flush_log(lines: Vec<String>) {
    let _ = lines;
}

fn main() {
    let _ = flush_log::queue(vec![], WorkQueue::Delayed, &Passive::on_host());
}
