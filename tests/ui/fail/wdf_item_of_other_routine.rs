//! A KMDF routine's item naming another routine: one error at the name, as
//! on the Io path.
use ntwork::wdf::RunningWdfWorkItem;
use ntwork::work_item;

struct Ctx;

#[work_item(wdf)]
fn other(context: &Ctx) {
    let _ = context;
}

#[work_item(wdf)]
fn drain(context: &Ctx, item: &RunningWdfWorkItem<'_, other>) {
    let _ = (context, item);
}

fn main() {}
