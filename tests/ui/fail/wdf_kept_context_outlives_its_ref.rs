//! A kept item's context borrowed past its `WdfWorkItemRef`: the ref's own
//! reference keeps the context, not the parent (whose removal may dispose the
//! item), so the borrow ends with the ref.
use ntwork::irql::Passive;
use ntwork::wdf::{WdfDevice, WdfWorkItemRef};
use ntwork::work_item;

#[work_item(wdf)]
fn drain(pending: &Vec<u64>) {
    let _ = pending;
}

fn context_of(device: &WdfDevice) -> &Vec<u64> {
    let kept = WdfWorkItemRef::<drain>::kept(device).expect("kept");
    kept.context()
}

fn main() {
    let _ = Passive::on_host;
    let _ = context_of;
}
