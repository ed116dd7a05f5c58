use ntwork::{IoWorkItem, work_item};

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn take(_item: IoWorkItem<flush>) {}

fn main() {
    let _ = take;
}
