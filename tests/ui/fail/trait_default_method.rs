//! A trait's default method: rustc's 'struct is not supported in traits' at
//! the name (as `associated_fn`); the attribute cannot see the trait around
//! it. Listed in docs/checks.md.
use ntwork::work_item;

trait Jobs {
    #[work_item]
    fn flush(batch: Vec<u8>) {
        let _ = batch;
    }
}

fn main() {}
