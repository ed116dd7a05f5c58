//! KNOWN BAD (3 errors): a routine named as an existing type: E0428 twice and
//! E0618 from the generated code.
use ntwork::work_item;

struct Flush;

#[work_item]
fn Flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {}
