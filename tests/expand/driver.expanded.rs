fn refresh(driver: &DriverObject, generation: u64) {
    let _ = (driver, generation);
}
#[allow(non_camel_case_types)]
/// The work item routine `refresh`: names it in generic code (`IoWorkItem<refresh>`), with its `ROUTINE` trampoline and queueing helpers.
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
    ) {
        refresh(object, context);
        let _ = item;
    }
}
impl ::ntwork::IoRoutineWithoutItem for refresh {
    fn run_without_item(object: &::ntwork::DriverObject, context: Self::Context) {
        refresh(object, context)
    }
}
impl refresh {
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
    /// An Io work item for `refresh` bound to the driver object (`IoAllocateWorkItem`); `Err` on low resources.
    fn new(
        object: &::ntwork::DriverObject,
    ) -> ::core::result::Result<::ntwork::IoWorkItem<refresh>, ::ntwork::AllocError> {
        ::ntwork::IoWorkItem::new(object)
    }
    /// Allocates an item for `refresh` and queues it on `queue` (callable at IRQL <= `DISPATCH_LEVEL`). On low resources the error holds the context.
    fn queue(
        object: &::ntwork::DriverObject,
        context: u64,
        queue: ::ntwork::WorkQueue,
    ) -> ::core::result::Result<(), ::ntwork::AllocError<u64>> {
        ::ntwork::__private::io_queue_without_item::<refresh>(object, context, queue)
    }
}
