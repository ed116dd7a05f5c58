//! The routine as `validate` found it and `expand` needs it: data only, one
//! variant per role, each role with its own data.

use proc_macro2::Span;
use syn::{Ident, Path, Type, Visibility};

/// A `#[work_item]` routine, as validated.
pub(crate) struct Routine {
    /// The function's visibility, copied by the generated items.
    pub(crate) vis: Visibility,
    /// The function's name, which also names the generated type.
    pub(crate) ident: Ident,
    /// Where the runtime is: `::ntwork`, or the `crate = path` argument.
    pub(crate) krate: Path,
    /// Which kernel API runs the routine, with what that role needs.
    pub(crate) role: Role,
    /// The function's last parameter is `irql: &Passive<'_>`, which the
    /// trampoline lends (not among the role's parameters).
    pub(crate) takes_irql: bool,
}

/// Which kernel API runs the routine.
pub(crate) enum Role {
    /// `ExQueueWorkItem`: `fn(C)`, `fn(&C)`, `fn()`.
    Ex(Ex),
    /// `IoQueueWorkItem(Ex)` on an item bound to a device or driver object.
    Io(Io),
    /// KMDF: `fn(&C)`, `fn(&C, &RunningWdfWorkItem<'_, name>)`.
    Wdf(Wdf),
}

/// An Ex routine.
pub(crate) struct Ex {
    /// The context parameter; `None` for `fn()` (context `()`, borrowed).
    pub(crate) context: Option<Context>,
    /// Where its one-shot items are counted for DriverUnload.
    pub(crate) unload: Unload,
}

impl Ex {
    /// Whether the routine only borrows its context, so a reusable item can
    /// run it (`fn(&C)` and `fn()`).
    pub(crate) fn borrows(&self) -> bool {
        self.context.as_ref().is_none_or(|context| context.borrowed)
    }
}

/// Where an Ex routine's one-shot items are counted.
pub(crate) enum Unload {
    /// In the rundown the caller passes: `name::queue(&RUNDOWN, ctx, q, irql)`.
    AtTheCall,
    /// `rundown = PATH`: in that `static Rundown`, named in the routine's type.
    Rundown(Path),
    /// `unsafe(never_unloads)`: nowhere; the user's `unsafe` token.
    NeverUnloads(Ident),
}

/// An Io routine: device- or driver-bound.
pub(crate) struct Io {
    /// The object its items are bound to (`IoAllocateWorkItem`'s argument).
    pub(crate) object: IoObject,
    /// The context parameter; `None` for a routine without one (context `()`).
    /// Borrowed only in a routine reported for it (its stand-in serves both
    /// readings, see `expand::fallback`).
    pub(crate) context: Option<Context>,
    /// How the routine takes its own work item.
    pub(crate) item: IoItem,
}

/// The object an Io routine's items are bound to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IoObject {
    /// A device object of the driver: `fn(&DeviceObject, ..)`.
    Device,
    /// The driver's own DRIVER_OBJECT: `fn(&DriverObject, ..)`.
    Driver,
}

impl IoObject {
    /// The runtime's type for the object.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            IoObject::Device => "DeviceObject",
            IoObject::Driver => "DriverObject",
        }
    }

    /// The object in a driver author's words, for docs and messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            IoObject::Device => "device",
            IoObject::Driver => "driver",
        }
    }
}

/// How an Io routine takes its own work item (`IoQueueWorkItemEx`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IoItem {
    /// Not at all: `fn(&DeviceObject, C)`; the item is freed after it returns.
    None,
    /// Kept: `IoWorkItem<name>`, which holds a counted reference on the object.
    Kept,
    /// Lent for the call: `RunningIoWorkItem<'_, name>`.
    Lent,
}

/// A KMDF routine.
pub(crate) struct Wdf {
    /// Its items' parent kind.
    pub(crate) parent: WdfParent,
    /// The context the item keeps and the callback borrows.
    pub(crate) context: Option<Context>,
    /// The routine takes its running item: `fn(&C, &RunningWdfWorkItem<'_, name>)`.
    pub(crate) takes_item: bool,
}

/// The kind of a KMDF work item's parent.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) enum WdfParent {
    /// `WdfDevice` (the default).
    #[default]
    Device,
    /// `WdfQueue`.
    Queue,
}

/// The routine's context parameter.
pub(crate) struct Context {
    /// The context type `C`: for `fn(&C)`, the `C` behind the reference.
    pub(crate) ty: Type,
    /// Where trait obligations on `C` are reported: the user's type.
    pub(crate) span: Span,
    /// The routine takes `&C`.
    pub(crate) borrowed: bool,
    /// What the checks found in `C`.
    pub(crate) checked: Checked,
}

/// What the checks found in a context type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Checked {
    /// Nothing: `C` can appear in every generated item.
    Valid,
    /// A valid type reported for not being `Send` (a raw pointer, an `Rc`):
    /// the helpers' signatures keep it, so calls written for it add no
    /// errors; the trait impls, whose `Context` must be `Send`, use `()`.
    NotSend,
    /// An error in `C` itself (a borrow, an undeclared lifetime, `impl
    /// Trait`, ...) or a generic function it may mention: no generated item
    /// names it.
    Invalid,
}
