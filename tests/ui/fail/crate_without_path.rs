use ntwork::work_item;

#[work_item(crate =)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {}
