use ntwork::work_item;

struct Port;

impl Port {
    #[work_item]
    fn rescan(count: u32) {
        let _ = count;
    }
}

fn main() {}
