use ntwork::work_item;

#[work_item]
fn flush((first, second): (u8, u8)) {
    let _ = (first, second);
}

fn main() {}
