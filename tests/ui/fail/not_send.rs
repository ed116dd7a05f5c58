use std::rc::Rc;

use ntwork::work_item;

#[work_item]
fn flush(batch: Rc<Vec<u8>>) {
    let _ = batch;
}

fn main() {}
