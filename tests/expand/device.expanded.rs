fn flush_device(device: &DeviceObject, lines: Vec<String>) {
    let _ = (device, lines);
}
#[allow(non_camel_case_types)]
/// The work item routine `flush_device`: names it in generic code (`IoWorkItem<flush_device>`), with its `ROUTINE` trampoline and queueing helpers.
struct flush_device {}
impl ::ntwork::Routine for flush_device {
    type Context = Vec<String>;
}
impl ::ntwork::IoRoutine for flush_device {
    type Object = ::ntwork::DeviceObject;
    fn run(
        object: &::ntwork::DeviceObject,
        context: Self::Context,
        item: ::ntwork::RunningIoWorkItem<'_, Self>,
    ) {
        flush_device(object, context);
        let _ = item;
    }
}
impl ::ntwork::IoRoutineWithoutItem for flush_device {
    fn run_without_item(object: &::ntwork::DeviceObject, context: Self::Context) {
        flush_device(object, context)
    }
}
impl flush_device {
    /// The `IO_WORKITEM_ROUTINE` of `flush_device`, for `IoQueueWorkItem`. Its `Context` must come from `ntwork::raw::into_parameter` with the routine's context; it takes the context back and runs `flush_device`.
    const ROUTINE: ::ntwork::ffi::IO_WORKITEM_ROUTINE = ::ntwork::raw::io_routine::<
        flush_device,
    >();
    /// The raw-protocol routine in the routine pointer type `T` of a
    /// binding: `ntwork::ffi`'s, wdk-sys's (`extern "C"` on x86_64 and
    /// aarch64) or windows-sys's; the same contract as `ROUTINE`. See
    /// `ntwork::abi`.
    #[must_use]
    fn routine<__NtworkRoutineType: ::ntwork::abi::RoutineType<Self>>() -> __NtworkRoutineType {
        <__NtworkRoutineType as ::ntwork::abi::RoutineType<Self>>::of()
    }
    #[doc(hidden)]
    /// Device-bound routines have no Ex initializer: queue them with `queue(device, ...)`.
    ///
    /// # Safety
    ///
    /// Never callable: `Self` is device-bound.
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
    /// An Io work item for `flush_device` bound to the device object (`IoAllocateWorkItem`); `Err` on low resources.
    fn new(
        object: &::ntwork::DeviceObject,
    ) -> ::core::result::Result<
        ::ntwork::IoWorkItem<flush_device>,
        ::ntwork::AllocError,
    > {
        ::ntwork::IoWorkItem::new(object)
    }
    /// Allocates an item for `flush_device` and queues it on `queue` (callable at IRQL <= `DISPATCH_LEVEL`). On low resources the error holds the context.
    fn queue(
        object: &::ntwork::DeviceObject,
        context: Vec<String>,
        queue: ::ntwork::WorkQueue,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<Vec<String>>> {
        ::ntwork::__private::io_queue_without_item::<
            flush_device,
        >(object, context, queue)
    }
}
