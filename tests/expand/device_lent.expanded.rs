fn poll(device: &DeviceObject, count: u32, item: RunningIoWorkItem<'_, poll>) {
    if count > 0 {
        item.queue(count - 1, WorkQueue::Delayed);
    }
}
#[allow(non_camel_case_types)]
/// The device-bound work item routine `poll` (`IoQueueWorkItemEx`), which takes its own item, as a type: `IoWorkItem<poll>`. Generated beside it: `poll::new`, `poll::queue`.
struct poll {}
impl ::ntwork::Routine for poll {
    type Context = u32;
}
impl ::ntwork::IoRoutine for poll {
    type Object = ::ntwork::DeviceObject;
    fn run(
        object: &::ntwork::DeviceObject,
        context: Self::Context,
        item: ::ntwork::RunningIoWorkItem<'_, Self>,
        _: &mut ::ntwork::irql::Passive<'_>,
    ) {
        poll(object, context, item);
    }
}
impl poll {
    #[doc(hidden)]
    /// Io routines have no Ex initializer: queue them with `queue(object, ...)`.
    ///
    /// # Safety
    ///
    /// Never callable: `Self` is bound to a device or driver object.
    unsafe fn initialize<C>(
        item: *mut ::ntwork::ffi::WORK_QUEUE_ITEM,
        context: C,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<C>>
    where
        Self: ::ntwork::__private::ExInitializer<C>,
    {
        unsafe {
            <Self as ::ntwork::__private::ExInitializer<C>>::initialize(item, context)
        }
    }
    /// An Io work item for `poll` bound to the device object (`IoAllocateWorkItem`), holding a counted reference on it; `irql` proves IRQL <= `DISPATCH_LEVEL`. `Err` on low resources.
    fn new(
        object: &::ntwork::DeviceObject,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<::ntwork::IoWorkItem<poll>, ::ntwork::AllocError> {
        ::ntwork::IoWorkItem::new(object, irql)
    }
    /// Allocates an item for `poll` and queues it on `queue`; the queue keeps the device object referenced until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources the error holds the context.
    fn queue(
        object: &::ntwork::DeviceObject,
        context: u32,
        queue: ::ntwork::WorkQueue,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<u32>> {
        ::ntwork::__private::io_queue::<poll>(object, context, queue, irql)
    }
}
