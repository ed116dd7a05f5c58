//! A device object inside a context is a context, not the routine's object
//! parameter: an Ex routine that owns a counted reference, and a KMDF
//! routine whose context may hold one. Only a wrapped object written first,
//! before a context (`fn f(device: Option<&DeviceObject>, n: u32)`), is read
//! as the object parameter written wrong.

use ntwork::wdf::RunningWdfWorkItem;
use ntwork::{ARef, DeviceObject, work_item};

#[work_item]
fn release_later(device: ARef<DeviceObject>) {
    drop(device);
}

#[work_item(wdf)]
fn lower(
    lower: &Option<ARef<DeviceObject>>,
    item: &RunningWdfWorkItem<'_, lower>,
) {
    let _ = (lower, item);
}

fn main() {}
