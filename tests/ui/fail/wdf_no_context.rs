//! A KMDF routine without a context: one error at its `()`.
use ntwork::work_item;

#[work_item(wdf)]
fn drain() {}

fn main() {}
