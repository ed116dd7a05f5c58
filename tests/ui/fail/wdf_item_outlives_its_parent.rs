//! A KMDF item created under the parent its callback lends cannot be kept
//! past the callback (it would outlive the device once it is removed).

use ntwork::irql::Passive;
use std::sync::Mutex;
use std::sync::atomic::AtomicU32;

use ntwork::wdf::{RunningWdfWorkItem, Serialization, WdfWorkItem};
use ntwork::work_item;

static KEPT: Mutex<Option<WdfWorkItem<'static, helper>>> = Mutex::new(None);

#[work_item(wdf)]
fn helper(_count: &AtomicU32) {}

#[work_item(wdf)]
fn spawner(_count: &AtomicU32, item: &RunningWdfWorkItem<'_, spawner>) {
    let made = helper::create(item.parent(), AtomicU32::new(0), Serialization::None, &Passive::on_host()).unwrap();
    *KEPT.lock().unwrap() = Some(made);
}

fn main() {}
