use ntwork::work_item;

#[work_item]
unsafe fn flush(count: u32) {
    let _ = count;
}

fn main() {}
