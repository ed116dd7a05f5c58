use ntwork::{WorkQueue, work_item};

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let item = flush::new(vec![1, 2, 3]).unwrap();
    item.queue(WorkQueue::Delayed);
    item.queue(WorkQueue::Delayed);
}
