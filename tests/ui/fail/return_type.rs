use ntwork::work_item;

#[work_item]
fn flush(batch: Vec<u8>) -> usize {
    batch.len()
}

fn main() {}
