use ntwork::{WorkQueue, work_item};

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(42_u32, WorkQueue::Delayed);
}
