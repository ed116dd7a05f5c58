//! A KMDF context is `'static`, so it cannot hold an item created under a
//! borrowed parent: dropping the context would delete that item from inside
//! the framework's own disposal.

use ntwork::irql::Passive;
use ntwork::wdf::{Serialization, WdfDevice, WdfWorkItem};
use ntwork::work_item;

#[work_item(wdf)]
fn inner(_n: &u32) {}

struct Holder<'p> {
    _child: WdfWorkItem<'p, inner>,
}

#[work_item(wdf)]
fn outer(_holder: &Holder<'static>) {}

fn add_device(device: &WdfDevice) {
    let child = inner::create(device, 0, Serialization::None, &Passive::on_host()).unwrap();
    let _ = outer::create(device, Holder { _child: child }, Serialization::None, &Passive::on_host());
}

fn main() {}
