use ntwork::work_item;

#[work_item(wdf)]
fn drain<'a>(names: &Vec<&'a str>) {
    let _ = names;
}

fn main() {}
