use ntwork::work_item;

#[work_item]
fn flush<T: Send + 'static>(batch: T) {
    let _ = batch;
}

fn main() {}
