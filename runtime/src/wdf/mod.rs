//! KMDF work items (`WDFWORKITEM`), safely: a typed parent the item cannot
//! outlive, a context the framework stores and that is dropped exactly once
//! (at the framework's last reference to the item), explicit serialization,
//! `enqueue` that says whether it queued, coalesced or found the item
//! disposed, and a callback handle that cannot `flush` (flushing from inside
//! the callback waits for itself; the KMDF verifier breaks).
//!
//! ```
//! use core::sync::atomic::{AtomicU32, Ordering};
//! use ntwork::irql::Passive;
//! use ntwork::wdf::{Enqueued, Serialization, WdfDevice, WdfWorkItem};
//! use ntwork::work_item;
//!
//! #[work_item(wdf)]
//! fn drain(pending: &AtomicU32) {
//!     pending.store(0, Ordering::SeqCst);
//! }
//!
//! let exec = ntwork_host::Executive::manual();
//! let driver = exec.load_driver("kmdf.sys");
//! let host_device = driver.create_wdf_device(Default::default());
//! let device = WdfDevice::of(&host_device);
//! let irql = Passive::on_host(); // EvtDriverDeviceAdd's: `unsafe { Passive::assume() }`
//! let item = WdfWorkItem::<drain>::create(device, AtomicU32::new(3), Serialization::None, &irql)
//!     .unwrap();
//! assert_eq!(item.enqueue(&irql), Enqueued::Queued);
//! assert_eq!(item.enqueue(&irql), Enqueued::Coalesced);
//! exec.run_until_idle();
//! assert_eq!(item.context().load(Ordering::SeqCst), 0);
//! ```
//!
//! Facts this rests on (sources in `docs/kmdf.md`): Create and Enqueue at
//! IRQL <= DISPATCH_LEVEL, the callback and Flush at PASSIVE_LEVEL; an Enqueue
//! of an item already queued, or being deleted, is ignored (KMDF 1.7+); an
//! enqueue holds a reference on the item until its callback returned;
//! deleting the parent disposes the item before the parent's cleanup;
//! `WdfObjectDelete` of the item inside its own callback is allowed, and its
//! cleanup runs inside that call.
//!
//! Each file holds one hand-off: `parent` the borrowed parents; `context` the
//! context space (its type, the queued flag, the cleanup and destroy
//! callbacks); `running` the role and the callback that lends the running
//! item; `item` the owned item; `kept` the item its parent keeps.

mod context;
mod item;
mod kept;
mod parent;
mod running;

#[doc(hidden)]
pub use context::WdfContextSpace;
pub use context::{ContextType, Enqueued};
pub use item::{CreateError, KeepError, Serialization, WdfWorkItem};
pub use kept::WdfWorkItemRef;
pub use parent::{WdfDevice, WdfParent, WdfQueue};
pub use running::{RunningWdfWorkItem, WdfRoutine};
