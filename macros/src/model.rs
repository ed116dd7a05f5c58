//! A small typed model of a routine: what `expand` needs, nothing more.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Ident, Path, PathSegment, Type, Visibility};

/// A `#[work_item]` routine, as validated.
pub(crate) struct Routine {
    /// The function's visibility, copied by the generated items.
    pub(crate) vis: Visibility,
    /// The function's name, which also names the generated type.
    pub(crate) ident: Ident,
    /// Which path the routine is queued on.
    pub(crate) role: Role,
    /// For an Io routine, the kernel object its items are bound to.
    pub(crate) object: IoObjectKind,
    /// For a KMDF routine, its items' parent kind.
    pub(crate) wdf_parent: crate::args::WdfParentKind,
    /// For an Ex routine, the `static Rundown` stated in the attribute: its
    /// one-shot items count there, and `name::queue` takes no rundown.
    pub(crate) rundown: Option<Path>,
    /// For an Ex routine, `unsafe(never_unloads)`: its items count nowhere;
    /// the user's `unsafe` token.
    pub(crate) never_unloads: Option<Ident>,
    /// The context parameter; `None` for a routine without one (context `()`).
    pub(crate) context: Option<ContextParam>,
    /// Where the runtime is: `::ntwork`, or the `crate = path` argument.
    pub(crate) krate: Path,
}

/// Which kernel API runs the routine.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    /// `ExQueueWorkItem`: `fn(C)`, or (borrowed) `fn(&C)` / `fn()`.
    Ex {
        /// The routine only borrows its context, so a reusable item can run it.
        borrowed: bool,
    },
    /// `IoQueueWorkItem`: `fn(&DeviceObject, C)`.
    Device,
    /// `IoQueueWorkItemEx`: `fn(&DeviceObject, C, IoWorkItem<name>)`, or
    /// `fn(&DeviceObject, C, RunningIoWorkItem<'_, name>)` (`lent`).
    DeviceEx {
        /// The routine takes its item lent for the call, not kept (no
        /// counted reference is taken for it).
        lent: bool,
    },
    /// KMDF: `fn(&C)`, or `fn(&C, &RunningWdfWorkItem<'_, name>)` (`takes_item`).
    Wdf {
        /// The routine takes its running item.
        takes_item: bool,
    },
}

/// The object an Io routine's items are bound to (`IoAllocateWorkItem`'s argument).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IoObjectKind {
    /// A device object of the driver: `#[work_item(device)]`.
    Device,
    /// The driver's own DRIVER_OBJECT: `#[work_item(driver)]`.
    Driver,
}

impl IoObjectKind {
    /// The runtime's type for the object.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            IoObjectKind::Device => "DeviceObject",
            IoObjectKind::Driver => "DriverObject",
        }
    }
}

/// The routine's context parameter.
pub(crate) struct ContextParam {
    /// The context type `C` (for `fn(&C)`, the `C` behind the reference).
    pub(crate) ty: Type,
    /// Where trait obligations on `C` are reported: the user's type.
    pub(crate) span: Span,
    /// Whether `C` can appear in generated items: no error was found in it and
    /// the function has no generic parameters it could mention.
    pub(crate) usable: bool,
    /// Whether `C` can appear in the helpers' signatures: as `usable`, or the
    /// only error was that `C` is not `Send` (the trait impls then use `()`).
    pub(crate) in_signatures: bool,
}

impl ContextParam {
    /// The context as `stand_in`, reported at `ty`.
    pub(crate) fn standing_in(ty: &Type, stand_in: Type, usable: bool) -> Self {
        ContextParam {
            ty: stand_in,
            ..ContextParam::new(ty, usable)
        }
    }

    pub(crate) fn new(ty: &Type, usable: bool) -> Self {
        let span = ty
            .to_token_stream()
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |token| token.span());
        ContextParam {
            ty: ty.clone(),
            span,
            usable,
            in_signatures: usable,
        }
    }
}

/// Strips parentheses and invisible groups: `(T)` is `T`.
pub(crate) fn peel(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Paren(paren) => ty = &paren.elem,
            Type::Group(group) => ty = &group.elem,
            _ => return ty,
        }
    }
}

/// The last path segment of a plain path type, such as `IoWorkItem<x>` in
/// `ntwork::IoWorkItem<x>`.
pub(crate) fn last_segment(ty: &Type) -> Option<&PathSegment> {
    match peel(ty) {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

/// Whether `ty` names the type `name` (a plain path ending in it), behind any
/// references: how the object parameter of an Io routine is recognized.
fn mentions(ty: &Type, name: &str) -> bool {
    let mut ty = peel(ty);
    while let Type::Reference(reference) = ty {
        ty = peel(&reference.elem);
    }
    last_segment(ty).is_some_and(|segment| segment.ident == name && segment.arguments.is_none())
}

/// Whether `ty` names a device object: the parameter that makes a routine
/// device-bound (`&ntwork::DeviceObject`, or a misuse of it).
pub(crate) fn mentions_device_object(ty: &Type) -> bool {
    mentions(ty, "DeviceObject")
}

/// Whether `ty` names the driver object (`&ntwork::DriverObject`).
pub(crate) fn mentions_driver_object(ty: &Type) -> bool {
    mentions(ty, "DriverObject")
}

/// Whether `ty` is a `&RunningWdfWorkItem<...>` (a KMDF routine's own item).
pub(crate) fn is_running_wdf_item(ty: &Type) -> bool {
    mentions(ty, "RunningWdfWorkItem")
        || matches!(peel(ty), Type::Reference(r) if last_segment(&r.elem).is_some_and(|s| s.ident == "RunningWdfWorkItem"))
}

/// Whether `ty` is an `IoWorkItem<...>` or a `RunningIoWorkItem<...>` (the
/// item an `IoQueueWorkItemEx` routine receives, kept or lent).
pub(crate) fn is_io_work_item(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|segment| {
        segment.ident == "IoWorkItem" || segment.ident == "RunningIoWorkItem"
    })
}

/// Whether `ty` is a `RunningIoWorkItem<...>`: the routine's item lent for the call.
pub(crate) fn is_lent_io_work_item(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|segment| segment.ident == "RunningIoWorkItem")
}
