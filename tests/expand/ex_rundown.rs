#[work_item(rundown = WORK)]
fn flush_log(batch: Vec<u8>) {
    let _ = batch;
}
