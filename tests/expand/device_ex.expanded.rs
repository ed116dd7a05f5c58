fn poll(device: &DeviceObject, count: u32, item: IoWorkItem<poll>) {
    if count > 0 {
        item.queue(count - 1, WorkQueue::Delayed);
    }
}
#[allow(non_camel_case_types)]
/// The device-bound work item routine `poll` (`IoQueueWorkItemEx`), which takes its own item, as a type: `IoWorkItem<poll>`. Generated beside it: `poll::new`, `poll::queue`.
struct poll {}
impl ::my_driver::rt::Routine for poll {
    type Context = u32;
}
impl ::my_driver::rt::IoRoutine for poll {
    type Object = ::my_driver::rt::DeviceObject;
    fn run(
        object: &::my_driver::rt::DeviceObject,
        context: Self::Context,
        item: ::my_driver::rt::RunningIoWorkItem<'_, Self>,
        _: &mut ::my_driver::rt::irql::Passive<'_>,
    ) {
        poll(object, context, item.keep());
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
        item: *mut ::my_driver::rt::ffi::WORK_QUEUE_ITEM,
        context: C,
    ) -> ::core::result::Result<(), ::my_driver::rt::AllocError<C>>
    where
        Self: ::my_driver::rt::__private::ExInitializer<C>,
    {
        unsafe {
            <Self as ::my_driver::rt::__private::ExInitializer<
                C,
            >>::initialize(item, context)
        }
    }
    /// An Io work item for `poll` bound to the device object (`IoAllocateWorkItem`), holding a counted reference on it; `irql` proves IRQL <= `DISPATCH_LEVEL`. `Err` on low resources.
    fn new(
        object: &::my_driver::rt::DeviceObject,
        irql: &impl ::my_driver::rt::irql::AtMostDispatch,
    ) -> ::core::result::Result<
        ::my_driver::rt::IoWorkItem<poll>,
        ::my_driver::rt::AllocError,
    > {
        ::my_driver::rt::IoWorkItem::new(object, irql)
    }
    /// Allocates an item for `poll` and queues it on `queue`; the queue keeps the device object referenced until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources the error holds the context.
    fn queue(
        object: &::my_driver::rt::DeviceObject,
        context: u32,
        queue: ::my_driver::rt::WorkQueue,
        irql: &impl ::my_driver::rt::irql::AtMostDispatch,
    ) -> ::core::result::Result<(), ::my_driver::rt::AllocError<u32>> {
        ::my_driver::rt::__private::io_queue::<poll>(object, context, queue, irql)
    }
}
