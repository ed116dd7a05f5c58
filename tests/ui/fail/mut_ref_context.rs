use ntwork::work_item;

#[work_item]
fn bump(count: &mut u32) {
    *count += 1;
}

fn main() {}
