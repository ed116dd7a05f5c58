use ntwork::work_item;

struct Config;

#[work_item]
fn reload<'a>(config: &'a Config) {
    let _ = config;
}

fn main() {}
