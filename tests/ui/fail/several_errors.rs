//! Independent errors are all reported, each at its own token.

use ntwork::work_item;

#[work_item(ex, bogus)]
async fn flush(batch: Vec<u8>, retries: u32) -> u32 {
    let _ = batch;
    retries
}

fn main() {}
