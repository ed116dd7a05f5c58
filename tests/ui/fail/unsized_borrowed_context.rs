use ntwork::work_item;

#[work_item]
fn log_line(line: &str) {
    let _ = line;
}

fn main() {}
