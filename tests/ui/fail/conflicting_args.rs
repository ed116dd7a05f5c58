use ntwork::work_item;

#[work_item(ex, device)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {}
