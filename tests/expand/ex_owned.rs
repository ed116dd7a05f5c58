#[work_item]
fn flush_log(batch: Vec<u8>) {
    let _ = batch;
}
