use ntwork::work_item;

#[work_item]
fn flush<const N: usize>(batch: [u8; N]) {
    let _ = batch;
}

fn main() {}
