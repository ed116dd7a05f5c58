//! KNOWN BAD: a KMDF routine's item naming another routine: E0308 at the
//! attribute; the Io path says `write RunningIoWorkItem<'_, name>` at the
//! name.
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
