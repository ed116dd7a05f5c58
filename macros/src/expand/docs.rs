//! The generated items' doc comments, per role: each says what that routine
//! gets and nothing it does not. The routine type's doc lists the inherent
//! items from the plan itself (`struct_doc`), so it cannot promise one that
//! is not there.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Ex, Io, IoItem, IoObject, Role, Routine, Unload};

/// The doc of the routine's type: its role, the item types it can be made
/// into, and the inherent items generated for it (`listed`).
pub(super) fn struct_doc(routine: &Routine, listed: &[String]) -> String {
    let name = routine.ident.to_string();
    let what = match &routine.role {
        Role::Ex(ex) if ex.borrows() => format!(
            "The Ex work item routine `{name}` (`ExQueueWorkItem`), as a type: `ExWorkItem<{name}>` and, since it borrows its context, `ReusableExWorkItem<{name}>`."
        ),
        Role::Ex(_) => format!(
            "The Ex work item routine `{name}` (`ExQueueWorkItem`), as a type: `ExWorkItem<{name}>`."
        ),
        Role::Io(io) if io.item == IoItem::None => format!(
            "The {}-bound work item routine `{name}` (`IoQueueWorkItemEx`), as a type: `IoWorkItem<{name}>` and `ReusableIoWorkItem<{name}>`.",
            io.object.noun()
        ),
        Role::Io(io) => format!(
            "The {}-bound work item routine `{name}` (`IoQueueWorkItemEx`), which takes its own item, as a type: `IoWorkItem<{name}>`.",
            io.object.noun()
        ),
        Role::Wdf(_) => format!(
            "The KMDF work item routine `{name}` (`WdfWorkItemEnqueue`), as a type: `ntwork::wdf::WdfWorkItem<'_, {name}>`."
        ),
    };
    let mut doc = format!(" {what}");
    if !listed.is_empty() {
        let items: Vec<String> = listed
            .iter()
            .map(|item| format!("`{name}::{item}`"))
            .collect();
        doc.push_str(&format!(" Generated beside it: {}.", items.join(", ")));
    }
    doc
}

/// `ROUTINE` of an Ex routine.
pub(super) fn ex_routine(name: &str) -> String {
    format!(
        " The `WORKER_THREAD_ROUTINE` of `{name}`. Its `Parameter` must come from `{name}::initialize`, or from `ntwork::raw::into_parameter` with the routine's context; it takes the context back, runs `{name}`, and frees it. Items queued with it are counted in no `Rundown`: the caller keeps the driver loaded."
    )
}

/// `ROUTINE` of a device routine without its item.
pub(super) fn io_classic_routine(name: &str) -> String {
    format!(
        " The `IO_WORKITEM_ROUTINE` of `{name}`, for `IoQueueWorkItem`. Its `Context` must come from `ntwork::raw::into_parameter` with the routine's context; it takes the context back and runs `{name}`."
    )
}

/// `routine::<T>()`, for the raw routines the role has.
pub(super) fn routine_fn(name: &str, role: &Role) -> TokenStream {
    const BINDINGS: &str = "`ntwork::ffi`'s or wdk-sys's (`extern \"C\"` on x86_64 and aarch64)";
    let text = match role {
        Role::Io(Io {
            object: IoObject::Device,
            ..
        }) => format!(
            "The raw-protocol routine of `{name}` in the routine pointer type `T` of a binding, {BINDINGS}: for an `IO_WORKITEM_ROUTINE` type `ROUTINE` (`IoQueueWorkItem`), for an `IO_WORKITEM_ROUTINE_EX` type `ntwork::raw::io_routine_ex::<{name}>()` (`IoQueueWorkItemEx`, the item from `IoAllocateWorkItem`), with their contracts. For windows-sys's parameterless types: `ntwork::abi::windows_sys_io_routine` and `windows_sys_io_routine_ex`."
        ),
        Role::Io(_) => format!(
            "`ntwork::raw::io_routine_ex::<{name}>()`, the `IO_WORKITEM_ROUTINE_EX` of `{name}` for `IoQueueWorkItemEx` (the item from `IoAllocateWorkItem` on the driver object), in the routine pointer type `T` of a binding, {BINDINGS}, with its contract. For windows-sys's parameterless type: `ntwork::abi::windows_sys_io_routine_ex`."
        ),
        // KMDF routines have no `routine::<T>()`.
        Role::Ex(_) | Role::Wdf(_) => format!(
            "`ROUTINE` of `{name}` in the routine pointer type `T` of a binding: `ntwork::ffi`'s, wdk-sys's (`extern \"C\"` on x86_64 and aarch64) or windows-sys's (parameterless), with the same contract."
        ),
    };
    let text = format!(" {text} See `ntwork::abi`.");
    quote!(#[doc = #text])
}

/// `unsafe initialize` of an Ex routine.
pub(super) fn ex_initialize(name: &str) -> TokenStream {
    doc_lines(&format!(
        " The typed `ExInitializeWorkItem` for `{name}`: stores `ROUTINE` and the context (moved to nonpaged pool) in a caller-owned `WORK_QUEUE_ITEM`. {ON_LOW_RESOURCES}\n\n# Safety\n\n`item` is valid for writes, in nonpaged memory, and not queued; it stays valid until the routine has run, and it is queued at most once (the routine takes the context back). The item is counted in no `Rundown`: the driver's image stays loaded until the routine has returned (the caller waits for it before its DriverUnload returns, or the driver cannot unload)."
    ))
}

/// `new` of an Ex routine.
pub(super) fn ex_new(name: &str) -> String {
    format!(
        " An owned one-shot item for `{name}`, holding its context; `irql` proves IRQL <= `DISPATCH_LEVEL`. {ON_LOW_RESOURCES}"
    )
}

/// `queue` of an Ex routine, counted as `ex.unload` says.
pub(super) fn ex_queue(name: &str, ex: &Ex) -> String {
    let counted_in = match &ex.unload {
        Unload::AtTheCall => String::from("`rundown`"),
        Unload::Rundown(path) => format!("`{}`", quote!(#path).to_string().replace(' ', "")),
        Unload::NeverUnloads(_) => {
            return format!(
                " Allocates an item for `{name}` and queues it on `queue`, counted nowhere: the driver cannot unload (`unsafe(never_unloads)`). `irql` proves IRQL <= `DISPATCH_LEVEL`. {ON_LOW_RESOURCES}"
            );
        }
    };
    format!(
        " Allocates an item for `{name}` and queues it on `queue`, counted in {counted_in} until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. On low resources, or once the rundown has started, the error holds the context."
    )
}

/// The hidden `initialize` of an Io routine, which exists to fail.
pub(super) fn io_initialize() -> TokenStream {
    quote! {
        #[doc(hidden)]
        /// Io routines have no Ex initializer: queue them with `queue(object, ...)`.
        ///
        /// # Safety
        ///
        /// Never callable: `Self` is bound to a device or driver object.
    }
}

/// `new` of an Io routine.
pub(super) fn io_new(name: &str, object: IoObject) -> String {
    format!(
        " An Io work item for `{name}` bound to the {} object (`IoAllocateWorkItem`), holding a counted reference on it; `irql` proves IRQL <= `DISPATCH_LEVEL`. `Err` on low resources.",
        object.noun()
    )
}

/// `queue` of an Io routine.
pub(super) fn io_queue(name: &str, object: IoObject) -> String {
    format!(
        " Allocates an item for `{name}` and queues it on `queue`; the queue keeps the {} object referenced until the routine returns; `irql` proves IRQL <= `DISPATCH_LEVEL`. {ON_LOW_RESOURCES}",
        object.noun()
    )
}

/// `create` of a KMDF routine.
pub(super) fn wdf_create(name: &str) -> String {
    format!(
        " Creates a KMDF work item for `{name}` under `parent` (`WdfWorkItemCreate`), with the context moved into its context space; `irql` proves IRQL <= `DISPATCH_LEVEL`."
    )
}

const ON_LOW_RESOURCES: &str = "On low resources the error holds the context.";

/// A multi-line doc comment as one `#[doc]` per line, as `///` lines would be.
fn doc_lines(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| {
        if line.is_empty() || line.starts_with(' ') {
            line.to_owned()
        } else {
            format!(" {line}")
        }
    });
    quote!(#(#[doc = #lines])*)
}
