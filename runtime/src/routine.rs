//! What every `#[work_item]` routine is, whatever its role.

/// A work item routine made by `#[work_item]`, with the context it receives.
///
/// The item types ([`ExWorkItem`](crate::ExWorkItem),
/// [`IoWorkItem`](crate::IoWorkItem), their reusable forms and
/// `wdf::WdfWorkItem`) are generic over any routine; which of them can be
/// *made* for a routine is its role trait ([`ExRoutine`](crate::ExRoutine),
/// [`IoRoutine`](crate::IoRoutine), ...), required by the constructors. So
/// making an item on the wrong path is one error, at the constructor, naming
/// the right API, and a type that names such an item can never hold one.
///
/// A routine written by hand (what `#[work_item]` generates, without its
/// helpers) implements this trait and its role trait:
///
/// ```
/// use ntwork::{DriverObject, ExRoutine, ExWorkItem, Routine, Rundown, WorkQueue};
///
/// static WORK: Rundown = Rundown::new();
///
/// struct Flush;
///
/// impl Routine for Flush {
///     type Context = Vec<u8>;
/// }
///
/// impl ExRoutine for Flush {
///     fn run(batch: Vec<u8>) {
///         assert_eq!(batch, [1, 2]);
///     }
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// # let host_driver = exec.load_driver("flush.sys");
/// # // SAFETY: the test's driver object, kept by its host handle.
/// # let driver = unsafe { DriverObject::from_raw(host_driver.as_raw()) };
/// # driver.set_unload(|_| {}).unwrap();
/// # WORK.open(driver).unwrap();
/// ExWorkItem::<Flush>::new(vec![1, 2])
///     .unwrap()
///     .queue(&WORK, WorkQueue::Delayed)
///     .unwrap();
/// assert_eq!(exec.run_until_idle(), 1);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a work item routine",
    label = "not a work item routine",
    note = "routines are made with `#[work_item]`, `#[work_item(device)]`, `#[work_item(driver)]` or `#[work_item(wdf)]` on a function; a hand-written routine implements `ntwork::Routine` and its role trait"
)]
pub trait Routine: Sized + 'static {
    /// What the routine receives; it crosses to a system worker thread.
    type Context: Send + 'static;
}
