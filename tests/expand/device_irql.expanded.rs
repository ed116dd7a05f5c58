fn retry(
    device: &DeviceObject,
    attempts: u32,
    item: RunningIoWorkItem<'_, retry>,
    irql: &Passive<'_>,
) {
    if attempts > 0 {
        item.queue(attempts - 1, WorkQueue::Delayed);
    }
    flush_hardware(device, irql);
}
#[allow(non_camel_case_types)]
/// The device-bound work item routine `retry` (`IoQueueWorkItemEx`), which takes its own item, as a type: `IoWorkItem<retry>`. Generated beside it: `retry::new`, `retry::queue`.
struct retry {}
impl ::ntwork::Routine for retry {
    type Context = u32;
}
impl ::ntwork::IoRoutine for retry {
    type Object = ::ntwork::DeviceObject;
    fn run(
        object: &::ntwork::DeviceObject,
        context: Self::Context,
        item: ::ntwork::RunningIoWorkItem<'_, Self>,
        irql: &mut ::ntwork::irql::Passive<'_>,
    ) {
        retry(object, context, item, irql);
    }
}
impl retry {
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
    /// An Io work item for `retry` bound to the device object (`IoAllocateWorkItem`), holding a counted reference on it; `irql` proves IRQL <= `DISPATCH_LEVEL`. `Err` on low resources.
    fn new(
        object: &::ntwork::DeviceObject,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<::ntwork::IoWorkItem<retry>, ::ntwork::AllocError> {
        ::ntwork::IoWorkItem::new(object, irql)
    }
    /// Allocates an item for `retry` and queues it on `queue`; the queue keeps the device object referenced until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources the error holds the context.
    fn queue(
        object: &::ntwork::DeviceObject,
        context: u32,
        queue: ::ntwork::WorkQueue,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<u32>> {
        ::ntwork::__private::io_queue::<retry>(object, context, queue, irql)
    }
}
