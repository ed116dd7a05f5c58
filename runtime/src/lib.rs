//! Safe, typed Windows kernel work items.
//!
//! `#[work_item]` turns a plain function into a correctly typed worker routine
//! with typed helpers and a safe queueing API, and rejects misuse at compile
//! time: above all, a device-bound item on the Ex path.
//!
//! ```
//! use ntwork::irql::{Dispatch, Passive};
//! use ntwork::{DriverObject, Rundown, WorkQueue, work_item};
//!
//! /// Counts this driver's Ex work; ntwork's DriverUnload waits for it.
//! static WORK: Rundown = Rundown::new();
//!
//! #[work_item(rundown = WORK)]
//! fn flush_log(batch: Vec<u8>) {
//!     assert_eq!(batch, b"hello");
//! }
//!
//! fn driver_entry(driver: &DriverObject, irql: &Passive<'_>) {
//!     driver.set_unload(|_driver, _irql| { /* the driver's own unload code */ }, irql).unwrap();
//!     WORK.open(driver, irql).unwrap();
//! }
//!
//! fn dpc(irql: &Dispatch<'_>) {
//!     flush_log::queue(b"hello".to_vec(), WorkQueue::Delayed, irql).unwrap();
//! }
//!
//! # let exec = ntwork_host::Executive::manual();
//! # let host_driver = exec.load_driver("log.sys");
//! // A real driver makes its proofs where the kernel fixes the IRQL
//! // (`unsafe { Passive::assume() }` in DriverEntry); the host checks these.
//! driver_entry(DriverObject::of(&host_driver), &Passive::on_host());
//! ntwork_host::at_dispatch_level(|| dpc(&Dispatch::on_host()));
//! # assert_eq!(exec.run_until_idle(), 1);
//! # host_driver.unload().unwrap(); // ntwork's DriverUnload waits for WORK
//! ```
//!
//! Every call with an IRQL rule takes a proof of the caller's IRQL
//! ([`irql`]): queueing at most `DISPATCH_LEVEL`, waiting at `PASSIVE_LEVEL`,
//! checked at compile time. Kernel objects are borrowed ([`&DeviceObject`](DeviceObject)) or counted
//! ([`ARef`]); nothing safe outlives the object it points to. The crate is
//! `no_std` and allocates through the kernel's pool exports. The `ntwork-host`
//! crate runs the same code on Linux with the kernel's semantics and bug checks.

#![cfg_attr(docsrs, feature(doc_cfg), doc(auto_cfg(hide(loom))))]
#![doc = include_str!("../README.md")]
#![no_std]
#![warn(missing_docs)]
#![deny(clippy::multiple_unsafe_ops_per_block)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", all(panic = "unwind", unix)))]
extern crate std;

pub mod abi;
pub mod irql;
/// The kernel seam: `ntwork-sys`, the work-item types and functions of
/// `wdm.h` (and KMDF's, with feature `wdf`) under their C names.
#[doc(inline)]
pub use ntwork_sys as ffi;
pub mod raw;

mod device;
mod error;
mod ex;
mod guard;
mod held;
mod io;
mod objects;
mod parameter;
mod pool;
mod queue;
mod routine;
mod rundown;
mod spinlock;
mod sync;
mod unload;
#[cfg(feature = "wdf")]
pub mod wdf;

#[doc(hidden)]
pub mod __private;

pub use device::{
    CreateDeviceError, Device, DeviceExtension, DeviceOptions, ExtensionRef, HeldExtension,
};
pub use error::{AllocError, NotQueued, QueueError, Refused};
pub use ex::{ExRoutine, ExRoutineRef, ExWorkItem, ReusableExWorkItem};
pub use io::{
    IoRoutine, IoRoutineWithoutItem, IoWorkItem, ReusableIoWorkItem, RunningIoWorkItem,
    TryQueueError,
};
pub use objects::{ARef, AlwaysRefCounted, DeviceObject, DriverObject, IoObject};
pub use pool::POOL_TAG;
pub use queue::{Priority, WorkQueue};
pub use routine::{Routine, SharedContext, WorkContext};
pub use rundown::Rundown;
pub use spinlock::SpinLock;
pub use unload::{OpenError, SetUnloadError};

/// Turns a function into a typed kernel work item routine.
///
/// The function stays as written (callable from unit tests). Beside it the
/// attribute generates a type of the same name (`struct name {}`, so generic
/// code can say `ExWorkItem<name>`), the routine trait impls, and the typed
/// helpers below; the routine the kernel calls is ntwork's own
/// ([`raw`]), picked by that type.
///
/// # Roles and shapes
///
/// | signature | role | helpers |
/// |---|---|---|
/// | `fn name(ctx: C)` | Ex, owns its context ([`ExRoutine`]) | `new(ctx, irql)`, `queue(&rundown, ctx, q, irql)`, `unsafe initialize(item, ctx)`, `ROUTINE`, `routine::<T>()` |
/// | `fn name(ctx: &C)`, `fn name()` | Ex, borrows ([`ExRoutineRef`] too: usable by [`ReusableExWorkItem`]) | as above (no `ctx` for `fn()`) |
/// | `fn name(device: &DeviceObject, ctx: C)`, `fn name(device: &DeviceObject)` | device-bound ([`IoRoutine`], [`IoRoutineWithoutItem`]: usable by [`ReusableIoWorkItem`]); the item is freed after it returns | `new(device, irql)`, `queue(device, ctx, q, irql)` (no `ctx` for `fn(device)`), `ROUTINE`, `routine::<T>()` |
/// | `fn name(device: &DeviceObject, ctx: C, item: RunningIoWorkItem<'_, name>)` | device-bound, gets its item back lent for the call (`IoQueueWorkItemEx`): requeue it or drop it | `new(device, irql)`, `queue(device, ctx, q, irql)` |
/// | `fn name(device: &DeviceObject, ctx: C, item: IoWorkItem<name>)` | the same, the item kept (a counted reference on the device), so it may outlive the call | as above |
/// | `fn name(driver: &DriverObject, ctx: C)` (and with its item, as above) | driver-bound: an `IO_WORKITEM` bound to this driver's object, for work that belongs to no device but must not outlive the image | `new(driver, irql)`, `queue(driver, ctx, q, irql)` |
/// | `#[work_item(wdf)] fn name(ctx: &C)`, `fn name(ctx: &C, item: &RunningWdfWorkItem<'_, name>)` | KMDF (`wdf::WdfRoutine`, feature `wdf`): a `WDFWORKITEM` whose context space keeps `C` | `create(parent, ctx, serialization, irql)` |
///
/// Every shape may end with `irql: &Passive<'_>` (or `&mut Passive<'_>`, to
/// take a [`SpinLock`]): the proof that the routine runs at `PASSIVE_LEVEL`,
/// lent by ntwork's routine (the kernel's signature is unchanged). Every
/// helper's `irql` is a proof of IRQL <= `DISPATCH_LEVEL` ([`irql`]).
///
/// Ex work is counted in a [`Rundown`] that DriverUnload waits for; Io work
/// keeps its object (and so the driver image) referenced until the routine
/// returns; KMDF work belongs to its parent. Contexts cross to a worker
/// thread, so they are `Send + 'static`.
///
/// # Arguments
///
/// - none: the role comes from the signature;
/// - `ex` / `device` / `driver` / `wdf`: state the role (a stated role is
///   trusted over the spelling of the object's type); a contradiction with
///   the signature is a compile error. `wdf, parent = queue`: a KMDF item
///   under a queue;
/// - `rundown = STATIC` (Ex): the `static Rundown` the routine's one-shot
///   items count in, named in its type. `name::queue(ctx, q, irql)` then takes no
///   rundown, and the trampoline releases the static by its address, the C
///   shape exactly (`BENCHMARKS.md`, (a'));
/// - `unsafe(never_unloads)` (Ex): the driver cannot be unloaded (no
///   DriverUnload is set, by it or by its framework), so its Ex work counts
///   nowhere: `name::queue(ctx, q, irql)`
///   takes no rundown and makes no protection calls, the unprotected C shape
///   ((b')). The `unsafe` is the caller's claim, as for
///   [`Rundown::never_unloads`]; `forbid(unsafe_code)` rejects it;
/// - `crate = path`: where ntwork is, for crates that re-export it.
///
/// ```
/// use ntwork::irql::Passive;
/// use ntwork::{DriverObject, Rundown, WorkQueue, work_item};
///
/// static WORK: Rundown = Rundown::new();
///
/// #[work_item(rundown = WORK)]
/// fn flush_log(lines: Vec<String>) {
///     assert_eq!(lines.len(), 1);
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// let host_driver = exec.load_driver("log.sys");
/// let driver = DriverObject::of(&host_driver);
/// let irql = Passive::on_host(); // DriverEntry's: `unsafe { Passive::assume() }`
/// driver.set_unload(|_, _| {}, &irql).unwrap(); // DriverEntry
/// WORK.open(driver, &irql).unwrap();
/// flush_log::queue(vec!["a".into()], WorkQueue::Delayed, &irql).unwrap();
/// assert_eq!(exec.run_until_idle(), 1);
/// host_driver.unload().unwrap(); // waits for WORK, like `flush_log::queue(&WORK, ..)`
/// ```
///
/// # Example
///
/// ```
/// use ntwork::irql::{Dispatch, Passive};
/// use ntwork::{DeviceObject, DriverObject, WorkQueue, work_item};
///
/// #[work_item]
/// fn flush_log(lines: Vec<String>) {
///     assert_eq!(lines, ["started"]);
/// }
///
/// #[work_item(device)]
/// fn reset(device: &DeviceObject, attempt: u32) {
///     assert!(!device.as_raw().is_null() && attempt == 1);
/// }
///
/// static WORK: ntwork::Rundown = ntwork::Rundown::new();
///
/// let exec = ntwork_host::Executive::manual();
/// let driver = exec.load_driver("sample.sys");
/// let driver_object = DriverObject::of(&driver);
/// let irql = Passive::on_host();
/// driver_object.set_unload(|_, _| {}, &irql).unwrap(); // DriverEntry
/// WORK.open(driver_object, &irql).unwrap();
/// let host_device = driver.create_device();
/// let device = DeviceObject::of(&host_device);
///
/// // From a DPC: queueing is allowed up to DISPATCH_LEVEL.
/// fn dpc(device: &DeviceObject, irql: &Dispatch<'_>) {
///     flush_log::queue(&WORK, vec!["started".into()], WorkQueue::Delayed, irql).unwrap();
///     reset::queue(device, 1, WorkQueue::Delayed, irql).unwrap();
/// }
/// ntwork_host::at_dispatch_level(|| dpc(device, &Dispatch::on_host()));
/// assert_eq!(exec.run_until_idle(), 2);
/// driver.unload().unwrap();
/// ```
///
/// Misuse is a compile error at your code, for example a device-bound routine
/// on the Ex path:
///
/// ```compile_fail,E0277
/// use ntwork::{DeviceObject, ExWorkItem, work_item};
///
/// #[work_item(device)]
/// fn reset(device: &DeviceObject, attempt: u32) {}
///
/// # let irql = ntwork::irql::Passive::on_host();
/// let item = ExWorkItem::<reset>::new(1, &irql); // `reset` cannot be queued on the Ex path
/// ```
///
/// The role is checked where an item is made (`new`, `create`, the reusable
/// items' `new`), so each wrong item is one error there; a type that merely
/// names a wrong item, such as `ExWorkItem<reset>`, can never hold one.
#[doc(inline)]
pub use ntwork_macros::work_item;
