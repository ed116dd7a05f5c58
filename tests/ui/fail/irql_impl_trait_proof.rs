//! KNOWN BAD: the proof as `&impl AtPassive`, as a helper takes it: reported
//! as an Ex routine's second parameter, not as a proof to write
//! `&Passive<'_>`.
use ntwork::irql::AtPassive;
use ntwork::work_item;

#[work_item]
fn flush(batch: Vec<u8>, irql: &impl AtPassive) {
    let _ = (batch, irql);
}

fn main() {}
