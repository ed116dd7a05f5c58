//! A KMDF context is dropped in the item's cleanup, on whatever thread
//! deletes it: a `MutexGuard` (`Sync`, not `Send`) cannot be moved there.

use std::sync::MutexGuard;

use ntwork::work_item;

#[work_item(wdf)]
fn drain(count: &MutexGuard<'static, u32>) {
    let _ = count;
}

fn main() {}
