//! A trait method without a body: one error at the `;`, naming the body.
use ntwork::work_item;

trait Jobs {
    #[work_item]
    fn flush(batch: Vec<u8>);
}

fn main() {}
