use ntwork::work_item;

struct Logger;

impl Logger {
    #[work_item]
    fn flush(&self) {}
}

fn main() {}
