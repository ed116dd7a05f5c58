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
/// use ntwork::irql::Passive;
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
///     fn run(batch: Vec<u8>, _irql: &mut Passive<'_>) {
///         assert_eq!(batch, [1, 2]);
///     }
/// }
///
/// let exec = ntwork_host::Executive::manual();
/// # let host_driver = exec.load_driver("flush.sys");
/// # let driver = DriverObject::of(&host_driver);
/// let irql = Passive::on_host();
/// # driver.set_unload(|_, _| {}, &irql).unwrap();
/// # WORK.open(driver, &irql).unwrap();
/// ExWorkItem::<Flush>::new(vec![1, 2], &irql)
///     .unwrap()
///     .queue(&WORK, WorkQueue::Delayed, &irql)
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
    type Context: WorkContext;
}

/// What a work item's context must be: `Send + 'static`, because it moves to
/// a system worker thread and is used there after the caller returned. Every
/// such type is one; the trait exists so that a context that is not `Send` is
/// one error that says why and names the fix.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent between threads safely, so it cannot be a work item's context",
    label = "not `Send`: the context moves to a system worker thread",
    note = "for a raw pointer (an IRP, a buffer from C), wrap it in a newtype that implements `Send` (`struct Irp(*mut IRP); unsafe impl Send for Irp {{}}`) with a `// SAFETY:` comment saying why the pointee may be used from another thread; for an `Rc`, use `Arc`"
)]
pub trait WorkContext: 'static {}

impl<T: Send + 'static> WorkContext for T {}

/// What a reusable Ex item's context must be: `Send + Sync + 'static`,
/// because the routine borrows it on a worker thread while the driver holds
/// the item. Every such type is one; the trait makes a context that is not
/// `Sync` one error, where the item is made.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be shared between threads safely, so it cannot be the context of a reusable Ex item",
    label = "not `Sync`",
    note = "the routine borrows the context on a worker thread while the driver holds the item: use a `Sync` type (atomics, a lock), or the one-shot `ExWorkItem`, which moves its context to the worker"
)]
pub trait SharedContext: Send + 'static {}

impl<C: Send + Sync + 'static> SharedContext for C {}
