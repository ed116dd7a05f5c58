use ntwork::work_item;

#[work_item(ex, ex)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {}
