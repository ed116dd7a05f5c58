use ntwork::work_item;

#[work_item]
const fn flush(count: u32) {
    let _ = count;
}

fn main() {}
