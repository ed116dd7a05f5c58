//! The proof as `&impl AtPassive`, as a helper takes it: one error at the
//! bound, naming `irql: &Passive<'_>`.
use ntwork::irql::AtPassive;
use ntwork::work_item;

#[work_item]
fn flush(batch: Vec<u8>, irql: &impl AtPassive) {
    let _ = (batch, irql);
}

fn main() {}
