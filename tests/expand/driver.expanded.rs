fn refresh(driver: &DriverObject, generation: u64) {
    let _ = (driver, generation);
}
#[allow(non_camel_case_types)]
/// The driver-bound work item routine `refresh` (`IoQueueWorkItemEx`), as a type: `IoWorkItem<refresh>` and `ReusableIoWorkItem<refresh>`. Generated beside it: `refresh::routine::<T>()`, `refresh::new`, `refresh::queue`.
struct refresh {}
impl ::ntwork::Routine for refresh {
    type Context = u64;
}
impl ::ntwork::IoRoutine for refresh {
    type Object = ::ntwork::DriverObject;
    fn run(
        object: &::ntwork::DriverObject,
        context: Self::Context,
        item: ::ntwork::RunningIoWorkItem<'_, Self>,
        _: &mut ::ntwork::irql::Passive<'_>,
    ) {
        refresh(object, context);
        let _ = item;
    }
}
impl ::ntwork::IoRoutineWithoutItem for refresh {
    fn run_without_item(
        object: &::ntwork::DriverObject,
        context: Self::Context,
        _: &mut ::ntwork::irql::Passive<'_>,
    ) {
        refresh(object, context)
    }
}
impl refresh {
    /// `ntwork::raw::io_routine_ex::<refresh>()`, the `IO_WORKITEM_ROUTINE_EX` of `refresh` for `IoQueueWorkItemEx` (the item from `IoAllocateWorkItem` on the driver object), in the routine pointer type `T` of a binding, `ntwork::ffi`'s or wdk-sys's (`extern "C"` on x86_64 and aarch64), with its contract. For windows-sys's parameterless type: `ntwork::abi::windows_sys_io_routine_ex`. See `ntwork::abi`.
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
    /// An Io work item for `refresh` bound to the driver object (`IoAllocateWorkItem`), holding a counted reference on it; `irql` proves IRQL <= `DISPATCH_LEVEL`. `Err` on low resources.
    fn new(
        object: &::ntwork::DriverObject,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<::ntwork::IoWorkItem<refresh>, ::ntwork::AllocError> {
        ::ntwork::IoWorkItem::new(object, irql)
    }
    /// Allocates an item for `refresh` and queues it on `queue`; the queue keeps the driver object referenced until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources the error holds the context.
    fn queue(
        object: &::ntwork::DriverObject,
        context: u64,
        queue: ::ntwork::WorkQueue,
        irql: &impl ::ntwork::irql::AtMostDispatch,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<u64>> {
        ::ntwork::__private::io_queue_without_item::<
            refresh,
        >(object, context, queue, irql)
    }
}
