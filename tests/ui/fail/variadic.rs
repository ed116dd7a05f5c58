use ntwork::work_item;

#[work_item]
fn flush(count: u32, _: ...) {
    let _ = count;
}

fn main() {}
