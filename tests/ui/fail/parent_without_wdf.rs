use ntwork::work_item;

#[work_item(parent = queue)]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {}
