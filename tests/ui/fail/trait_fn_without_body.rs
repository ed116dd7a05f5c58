//! KNOWN BAD (text): a trait method without a body: the message repeats
//! itself (`goes on a free function with a body: ... needs a function with a
//! body`).
use ntwork::work_item;

trait Jobs {
    #[work_item]
    fn flush(batch: Vec<u8>);
}

fn main() {}
