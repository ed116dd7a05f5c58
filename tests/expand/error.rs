#[work_item(ex, bogus)]
async fn broken(batch: Vec<u8>, retries: u32) {
    let _ = (batch, retries);
}
