use ntwork::{ReusableExWorkItem, work_item};

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn take(_item: &ReusableExWorkItem<flush>) {}

fn main() {
    let _ = take;
}
