//! A KMDF routine taking its running item by value, as an Io routine does: it
//! is lent, `&RunningWdfWorkItem`.
use ntwork::wdf::RunningWdfWorkItem;
use ntwork::work_item;

struct Ctx;

#[work_item(wdf)]
fn drain(context: &Ctx, item: RunningWdfWorkItem<'_, drain>) {
    let _ = (context, item);
}

fn main() {}
