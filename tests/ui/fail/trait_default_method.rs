//! KNOWN BAD: a trait's default method: rustc's 'struct is not supported in
//! traits' about the generated type (as `associated_fn`).
use ntwork::work_item;

trait Jobs {
    #[work_item]
    fn flush(batch: Vec<u8>) {
        let _ = batch;
    }
}

fn main() {}
