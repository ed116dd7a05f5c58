use std::cell::Cell;
use std::rc::Rc;

use ntwork::work_item;

#[work_item]
fn tick(count: &Rc<Cell<u32>>) {
    count.set(count.get() + 1);
}

fn main() {}
