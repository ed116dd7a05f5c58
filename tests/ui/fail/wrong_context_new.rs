use ntwork::irql::Passive;
use ntwork::work_item;

#[work_item]
fn flush(batch: Vec<u8>) {
    let _ = batch;
}

fn main() {
    let _ = flush::new("not a batch", &Passive::on_host());
}
