//! A routine named as an existing type: E0428 twice and E0618 (the
//! routine's type is the generated one); the attribute cannot see the other
//! type. Listed in docs/checks.md.
use ntwork::work_item;

struct Flush;

#[work_item]
fn Flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {}
