//! Two routines of one name (a copy-paste): every generated item and impl
//! conflicts; the attribute sees one function at a time. Listed in
//! docs/checks.md.
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
