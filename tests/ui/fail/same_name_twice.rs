//! KNOWN BAD (9 errors): two routines of one name (a copy-paste): every
//! generated item and impl conflicts; rustc alone gives one E0428.
use ntwork::work_item;

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

#[work_item]
fn flush(batch: Vec<u32>) {
    let _ = batch;
}

fn main() {}
