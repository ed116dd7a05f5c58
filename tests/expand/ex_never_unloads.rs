#[work_item(unsafe(never_unloads))]
fn flush_log(batch: Vec<u8>) {
    let _ = batch;
}
