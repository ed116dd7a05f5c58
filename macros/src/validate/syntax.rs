//! Reading `syn` types: how parameters are recognized, and where errors point.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{
    GenericArgument, PatType, PathArguments, PathSegment, Type, TypeParamBound, TypeReference,
};

/// An error spanning `tokens`.
pub(super) fn error(tokens: impl ToTokens, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new_spanned(tokens, message)
}

/// Where obligations on a type are reported: its first token.
pub(super) fn first_span(ty: &Type) -> Span {
    ty.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |token| token.span())
}

/// Strips parentheses and invisible groups: `(T)` is `T`.
pub(super) fn peel(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Paren(paren) => ty = &paren.elem,
            Type::Group(group) => ty = &group.elem,
            _ => return ty,
        }
    }
}

/// `ty` behind any references and parentheses: `&&(T)` is `T`.
pub(super) fn referent(ty: &Type) -> &Type {
    let mut ty = peel(ty);
    while let Type::Reference(reference) = ty {
        ty = peel(&reference.elem);
    }
    ty
}

/// Whether `bound` is a trait named one of `names` (its path's last segment).
pub(super) fn names_trait(bound: &TypeParamBound, names: &[&str]) -> bool {
    matches!(bound, TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| names.iter().any(|name| s.ident == name)))
}

/// The last path segment of a plain path type, such as `IoWorkItem<x>` in
/// `ntwork::IoWorkItem<x>`.
pub(super) fn last_segment(ty: &Type) -> Option<&PathSegment> {
    match peel(ty) {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

/// How a parameter's type names an object's type (`DeviceObject`,
/// `DriverObject`), behind any references.
pub(super) enum Mention<'a> {
    /// The type itself: `&DeviceObject`.
    Direct,
    /// Inside a wrapper the kernel does not pass (`Option<&DeviceObject>`,
    /// `ARef<DeviceObject>`), or ntwork's typed `Device<E>` (see
    /// [`typed_device`]): the wrapper's segment, which the error names.
    Wrapped(&'a PathSegment),
}

/// Wrappers a new user puts around the object the kernel lends.
const WRAPPERS: [&str; 5] = ["Option", "ARef", "Box", "Arc", "Rc"];

/// How `ty` names the type `name`, if it does (a plain path ending in it).
pub(super) fn mention<'a>(ty: &'a Type, name: &str) -> Option<Mention<'a>> {
    let segment = last_segment(referent(ty))?;
    if segment.ident == name && segment.arguments.is_none() {
        return Some(Mention::Direct);
    }
    let PathArguments::AngleBracketed(angle) = &segment.arguments else {
        return None;
    };
    let wrapped = WRAPPERS.iter().any(|wrapper| segment.ident == wrapper)
        && angle.args.iter().any(|argument| {
            matches!(argument, GenericArgument::Type(inner) if mention(inner, name).is_some())
        });
    wrapped.then_some(Mention::Wrapped(segment))
}

/// `Device<E>` (behind any references): ntwork's owner of a device, which a
/// new user writes for the device parameter. Only the signature's position
/// tells it from a context type of the same name (see `role::io_object`).
pub(super) fn typed_device(ty: &Type) -> Option<&PathSegment> {
    last_segment(referent(ty)).filter(|segment| {
        segment.ident == "Device" && matches!(segment.arguments, PathArguments::AngleBracketed(_))
    })
}

/// Whether `ty` names the type `name` itself (behind references): how the
/// object parameter of an Io routine is recognized.
fn mentions(ty: &Type, name: &str) -> bool {
    matches!(mention(ty, name), Some(Mention::Direct))
}

/// Whether `ty` names the type `name` inside a wrapper (`Option<&T>`,
/// `ARef<T>`): a misuse of the object parameter, when it comes first.
pub(super) fn wraps(ty: &Type, name: &str) -> bool {
    matches!(mention(ty, name), Some(Mention::Wrapped(_)))
}

/// Whether `ty` names a device object: the parameter that makes a routine
/// device-bound (`&ntwork::DeviceObject`, or a misuse of it).
pub(super) fn mentions_device_object(ty: &Type) -> bool {
    mentions(ty, "DeviceObject")
}

/// Whether `ty` names the driver object (`&ntwork::DriverObject`).
pub(super) fn mentions_driver_object(ty: &Type) -> bool {
    mentions(ty, "DriverObject")
}

/// Whether `ty` is a `&RunningWdfWorkItem<...>` (a KMDF routine's own item).
pub(super) fn is_running_wdf_item(ty: &Type) -> bool {
    mentions(ty, "RunningWdfWorkItem")
        || matches!(peel(ty), Type::Reference(r) if last_segment(&r.elem).is_some_and(|s| s.ident == "RunningWdfWorkItem"))
}

/// Whether `ty` is an `IoWorkItem<...>` or a `RunningIoWorkItem<...>` (the
/// item an `IoQueueWorkItemEx` routine receives, kept or lent).
pub(super) fn is_io_work_item(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|segment| {
        segment.ident == "IoWorkItem" || segment.ident == "RunningIoWorkItem"
    })
}

/// Whether `ty` is a `RunningIoWorkItem<...>`: the routine's item lent for the call.
pub(super) fn is_lent_io_work_item(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|segment| segment.ident == "RunningIoWorkItem")
}

/// An item parameter's type behind one reference: `&IoWorkItem<name>` is the
/// item written by reference, reported as such.
pub(super) fn item_type(ty: &Type) -> &Type {
    match peel(ty) {
        Type::Reference(reference) => peel(&reference.elem),
        other => other,
    }
}

/// `&Path`: how a routine borrows the object the kernel lends it, whatever
/// name the type was imported under.
pub(super) fn lent_path(ty: &Type) -> bool {
    matches!(peel(ty), Type::Reference(r) if r.mutability.is_none() && matches!(peel(&r.elem), Type::Path(_)))
}

/// A reference type's `&'a mut`, where an error about taking by reference points.
pub(super) fn reference_prefix(reference: &TypeReference) -> TokenStream {
    let (and, lifetime, mutability) = (
        &reference.and_token,
        &reference.lifetime,
        &reference.mutability,
    );
    quote!(#and #lifetime #mutability)
}

/// A reference's `&mut`, if it is one.
pub(super) fn mut_prefix(reference: &TypeReference) -> Option<TokenStream> {
    let and = &reference.and_token;
    reference
        .mutability
        .as_ref()
        .map(|mutability| quote!(#and #mutability))
}

/// The positions of the parameters whose type satisfies `matches`.
pub(super) fn positions(params: &[&PatType], matches: impl Fn(&Type) -> bool) -> Vec<usize> {
    params
        .iter()
        .enumerate()
        .filter(|(_, param)| matches(&param.ty))
        .map(|(i, _)| i)
        .collect()
}

/// The parameters not at `positions`, in order.
pub(super) fn without<'a>(params: &[&'a PatType], positions: &[usize]) -> Vec<&'a PatType> {
    params
        .iter()
        .enumerate()
        .filter(|(i, _)| !positions.contains(i))
        .map(|(_, param)| *param)
        .collect()
}
