use ntwork::work_item;

#[work_item]
struct Flush {
    batch: Vec<u8>,
}

fn main() {}
