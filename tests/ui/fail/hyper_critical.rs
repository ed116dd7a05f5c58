use ntwork::{WorkQueue, work_item};

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::queue(vec![1], WorkQueue::HyperCritical);
}
