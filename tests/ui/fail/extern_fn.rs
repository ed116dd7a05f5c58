use ntwork::work_item;

#[work_item]
extern "system" fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {}
