use std::rc::Rc;

use ntwork::work_item;

#[work_item(wdf)]
fn drain(count: &Rc<u32>) {
    let _ = count;
}

fn main() {}
