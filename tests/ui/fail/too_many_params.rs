use ntwork::work_item;

#[work_item]
fn flush(batch: Vec<u8>, retries: u32) {
    let _ = (batch, retries);
}

fn main() {}
