use ntwork::work_item;

#[work_item]
fn flush(batch: impl IntoIterator<Item = u8> + Send + 'static) {
    let _ = batch;
}

fn main() {}
