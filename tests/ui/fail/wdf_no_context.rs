//! KNOWN BAD: a KMDF routine without a context: the error's span is the
//! attribute (a call-site `fn`), not the routine's signature.
use ntwork::work_item;

#[work_item(wdf)]
fn drain() {}

fn main() {}
