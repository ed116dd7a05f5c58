use std::borrow::Cow;

use ntwork::work_item;

#[work_item]
fn log(line: Cow<'_, str>) {
    let _ = line;
}

fn main() {}
