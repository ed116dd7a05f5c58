fn flush_device(device: &DeviceObject, lines: Vec<String>) {
    let _ = (device, lines);
}
#[allow(non_camel_case_types)]
/// The device-bound work item routine `flush_device` (`IoQueueWorkItemEx`), as a type: `IoWorkItem<flush_device>` and `ReusableIoWorkItem<flush_device>`. Generated beside it: `flush_device::ROUTINE`, `flush_device::routine::<T>()`, `flush_device::new`, `flush_device::queue`.
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
        _: &mut ::ntwork::irql::Passive<'_>,
    ) {
        flush_device(object, context);
        let _ = item;
    }
}
impl ::ntwork::IoRoutineWithoutItem for flush_device {
    fn run_without_item(
        object: &::ntwork::DeviceObject,
        context: Self::Context,
        _: &mut ::ntwork::irql::Passive<'_>,
    ) {
        flush_device(object, context)
    }
}
impl flush_device {
    /// The `IO_WORKITEM_ROUTINE` of `flush_device`, for `IoQueueWorkItem`. Its `Context` must come from `ntwork::raw::into_parameter` with the routine's context; it takes the context back and runs `flush_device`.
    const ROUTINE: ::ntwork::ffi::IO_WORKITEM_ROUTINE = ::ntwork::raw::io_routine::<
        flush_device,
    >();
    /// The raw-protocol routine of `flush_device` in the routine pointer type `T` of a binding, `ntwork::ffi`'s or wdk-sys's (`extern "C"` on x86_64 and aarch64): for an `IO_WORKITEM_ROUTINE` type `ROUTINE` (`IoQueueWorkItem`), for an `IO_WORKITEM_ROUTINE_EX` type `ntwork::raw::io_routine_ex::<flush_device>()` (`IoQueueWorkItemEx`, the item from `IoAllocateWorkItem`), with their contracts. For windows-sys's parameterless types: `ntwork::abi::windows_sys_io_routine` and `windows_sys_io_routine_ex`. See `ntwork::abi`.
    #[must_use]
    fn routine<__NtworkRoutineType: ::ntwork::abi::RoutineType<Self>>() -> __NtworkRoutineType {
        <__NtworkRoutineType as ::ntwork::abi::RoutineType<Self>>::of()
    }
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
    /// An Io work item for `flush_device` bound to the device object (`IoAllocateWorkItem`), holding a counted reference on it; `irql` proves IRQL <= `DISPATCH_LEVEL`. `Err` on low resources.
    fn new(
        object: &::ntwork::DeviceObject,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<
        ::ntwork::IoWorkItem<flush_device>,
        ::ntwork::AllocError,
    > {
        ::ntwork::IoWorkItem::new(object, irql)
    }
    /// Allocates an item for `flush_device` and queues it on `queue`; the queue keeps the device object referenced until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources the error holds the context.
    fn queue(
        object: &::ntwork::DeviceObject,
        context: Vec<String>,
        queue: ::ntwork::WorkQueue,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<Vec<String>>> {
        ::ntwork::__private::io_queue_without_item::<
            flush_device,
        >(object, context, queue, irql)
    }
}
