//! The parameters each role takes, read into the role's model.

use proc_macro2::Span;
use quote::quote;
use syn::{GenericArgument, Ident, PathArguments, Type};

use super::context::{self, check_lifetime, unsized_owned_form};
use super::signature::Signature;
use super::syntax::{
    Mention, error, is_io_work_item, is_lent_io_work_item, is_running_wdf_item, item_type,
    last_segment, mention, mentions_device_object, mentions_driver_object, mut_prefix, peel,
    positions, reference_prefix, typed_device, without,
};
use crate::errors::Errors;
use crate::model::{Context, Ex, Io, IoItem, IoObject, Unload, Wdf, WdfParent};

/// The Ex shapes, for the error about too many parameters.
const EX_SHAPES: &str = "`fn name(context: C)`, `fn name(context: &C)` or `fn name()`; work bound to a device or to the driver object takes the object first, `fn name(device: &DeviceObject, context: C)`";

/// `fn()`, `fn(C)`, `fn(&C)`.
pub(super) fn ex(sig: &Signature<'_>, unload: Unload, errors: &mut Errors) -> Ex {
    // A routine written to get its item back, as an Io routine does: the one
    // mistake, reported alone.
    let items = positions(&sig.params, |ty| is_io_work_item(item_type(ty)));
    for &position in &items {
        errors.push(error(
            sig.params[position],
            "an Ex routine does not get its work item back (ExQueueWorkItem's item is freed before the routine runs): queue the next run from the body (`name::queue(..)`), or bind the routine to a device, `fn name(device: &DeviceObject, context: C, item: RunningIoWorkItem<'_, name>)`",
        ));
    }
    let params = without(&sig.params, &items);
    if let [_, extra @ ..] = &params[..]
        && !extra.is_empty()
    {
        errors.push(error(
            quote!(#(#extra),*),
            format!(
                "an Ex routine takes at most one parameter, its context: bundle these values into a struct or a tuple and take that (the Ex shapes are {EX_SHAPES})"
            ),
        ));
    }
    let context = params
        .first()
        .map(|param| ex_context(&param.ty, sig, errors));
    Ex { context, unload }
}

/// An Ex routine's context: owned `C` (`&'static T` is one), or borrowed `&C`.
fn ex_context(ty: &Type, sig: &Signature<'_>, errors: &mut Errors) -> Context {
    let ty = peel(ty);
    let Type::Reference(reference) = ty else {
        return context::checked(ty, false, sig, errors);
    };
    if let Some(prefix) = mut_prefix(reference) {
        errors.push(error(
            prefix,
            "a `#[work_item]` routine cannot take its context by `&mut`: the context is shared with the item that queued it; take it by value (`C`) to own it, or by `&C` and use interior mutability (atomics, a lock)",
        ));
    }
    match &reference.lifetime {
        // `&'static T` is an owned context that happens to be a reference.
        Some(lifetime) if lifetime.ident == "static" => {
            return context::checked(ty, false, sig, errors);
        }
        Some(lifetime) if lifetime.ident != "_" => check_lifetime(lifetime, &sig.lifetimes, errors),
        _ => {}
    }
    if let Some(owned) = unsized_owned_form(&reference.elem) {
        errors.push(error(
            &reference.elem,
            format!("a borrowed context must be a sized type: the item stores the context itself and lends it to the routine. Take `&{owned}` (the item stores a `{owned}`), or an owned `{owned}`, or `&'static` data"),
        ));
        return context::invalid(&reference.elem, true);
    }
    context::checked(&reference.elem, true, sig, errors)
}

/// `fn(&Object, C)`, `fn(&Object, C, RunningIoWorkItem<'_, name>)`,
/// `fn(&Object, C, IoWorkItem<name>)`, and the same without a context.
/// `at`: where the parameters naming the object are (never empty).
pub(super) fn io(
    ident: &Ident,
    sig: &Signature<'_>,
    object: IoObject,
    at: &[usize],
    errors: &mut Errors,
) -> Io {
    let noun = object.noun();
    object_params(object, sig, at, errors);
    let rest = without(&sig.params, at);
    let items = positions(&rest, |ty| is_io_work_item(item_type(ty)));
    for &position in &items {
        item_param(ident, object, &rest[position].ty, errors);
    }
    if let Some(&position) = items.first()
        && (position + 1 != rest.len() || items.len() > 1)
    {
        errors.push(error(
            rest[position],
            format!("the work item comes last in a {noun}-bound routine: `fn name({noun}: &{}, context: C, item: IoWorkItem<name>)`", object.type_name()),
        ));
    }
    let contexts = without(&rest, &items);
    if let [_, extra @ ..] = &contexts[..]
        && !extra.is_empty()
    {
        errors.push(error(
            quote!(#(#extra),*),
            format!(
                "a {noun}-bound routine takes the {noun} object, one context and optionally its work item: bundle these values into a struct or a tuple (the shapes are {})",
                io_shapes(object)
            ),
        ));
    }
    let item = match items.first() {
        Some(&position) if is_lent_io_work_item(item_type(&rest[position].ty)) => IoItem::Lent,
        Some(_) => IoItem::Kept,
        None => IoItem::None,
    };
    let context = contexts
        .first()
        .map(|param| io_context(object, &param.ty, sig, errors));
    Io {
        object,
        context,
        item,
    }
}

/// The shapes of a device- or driver-bound routine.
fn io_shapes(object: IoObject) -> String {
    let (noun, ty) = (object.noun(), object.type_name());
    format!(
        "`fn name({noun}: &{ty}, context: C)`, `fn name({noun}: &{ty}, context: C, item: RunningIoWorkItem<'_, name>)` or `fn name({noun}: &{ty}, context: C, item: IoWorkItem<name>)`"
    )
}

/// The object comes first, once, as `&Object`: the kernel lends it for the call.
fn object_params(object: IoObject, sig: &Signature<'_>, at: &[usize], errors: &mut Errors) {
    let (noun, ty) = (object.noun(), object.type_name());
    let Some(&first) = at.first() else {
        return;
    };
    if first != 0 {
        errors.push(error(
            sig.params[first],
            format!("the {noun} object comes first in a {noun}-bound routine, as in IO_WORKITEM_ROUTINE (IoQueueWorkItem): `fn name({noun}: &{ty}, context: C)`"),
        ));
    }
    for &position in &at[1..] {
        errors.push(error(
            sig.params[position],
            format!("a {noun}-bound routine takes one {noun} object, as its first parameter: `fn name({noun}: &{ty}, context: C)`"),
        ));
    }
    let message = format!(
        "the {noun} parameter must be `&{ty}`: IoQueueWorkItem lends the {noun} object to the routine for the duration of the call"
    );
    let param_ty = &sig.params[first].ty;
    let wrapper = match mention(param_ty, ty) {
        Some(Mention::Wrapped(wrapper)) => Some(wrapper),
        _ if object == IoObject::Device => typed_device(param_ty),
        _ => None,
    };
    if let Some(wrapper) = wrapper {
        let fix = match wrapper.ident.to_string().as_str() {
            "Device" => format!(
                "; `Device<E>` is the owner that deletes the device: reach `E` from the lent object with `{noun}.extension::<E>(irql)`"
            ),
            "ARef" => format!(
                "; to keep the {noun} past the call, take a counted reference in the body: `ARef::from({noun})`"
            ),
            "Option" => "; it is never null".to_string(),
            _ => String::new(),
        };
        errors.push(error(peel(param_ty), format!("{message}{fix}")));
        return;
    }
    match peel(&sig.params[first].ty) {
        Type::Reference(reference) => {
            if let Some(prefix) = mut_prefix(reference) {
                errors.push(error(prefix, message));
            } else if let Some(lifetime) = &reference.lifetime
                && lifetime.ident != "_"
            {
                errors.push(error(lifetime, message));
            } else if !matches!(peel(&reference.elem), Type::Path(_)) {
                errors.push(error(&reference.elem, message));
            }
        }
        other => errors.push(error(other, message)),
    }
}

/// The item parameter is this routine's `IoWorkItem<name>` or
/// `RunningIoWorkItem<'_, name>`, by value (`Self` is left to rustc: it is
/// not allowed in a function).
fn item_param(ident: &Ident, object: IoObject, ty: &Type, errors: &mut Errors) {
    let noun = object.noun();
    let written = |lent: bool| {
        if lent {
            format!("RunningIoWorkItem<'_, {ident}>")
        } else {
            format!("IoWorkItem<{ident}>")
        }
    };
    if let Type::Reference(reference) = peel(ty) {
        let fix = written(is_lent_io_work_item(&reference.elem));
        errors.push(error(
            reference_prefix(reference),
            format!("a {noun}-bound routine takes its work item by value: `item: {fix}` (the routine may requeue, keep or free it)"),
        ));
    }
    let item = item_type(ty);
    if let Some(argument) = other_routine(ident, item) {
        let fix = written(is_lent_io_work_item(item));
        errors.push(error(
            argument,
            format!("a {noun}-bound routine receives its own work item: write `{fix}`"),
        ));
    }
}

/// The routine an item type (`IoWorkItem<name>`, `RunningIoWorkItem<'_,
/// name>`, `RunningWdfWorkItem<'_, name>`) names, if it is not `ident`'s
/// own (nor `Self`, which rustc judges).
fn other_routine<'a>(ident: &Ident, item: &'a Type) -> Option<&'a Type> {
    let segment = last_segment(item)?;
    let PathArguments::AngleBracketed(angle) = &segment.arguments else {
        return None;
    };
    // The lent forms' lifetime (`'_`) is rustc's to check.
    let types: Vec<_> = angle
        .args
        .iter()
        .filter(|argument| !matches!(argument, GenericArgument::Lifetime(_)))
        .collect();
    let [GenericArgument::Type(argument)] = types[..] else {
        return None;
    };
    last_segment(argument)
        .is_some_and(|name| name.ident != *ident && name.ident != "Self")
        .then_some(argument)
}

/// An Io routine's context, owned. A borrowed one is reported, and read as
/// the `C` it borrows: the context type the fix names.
fn io_context(object: IoObject, ty: &Type, sig: &Signature<'_>, errors: &mut Errors) -> Context {
    let ty = peel(ty);
    let Type::Reference(reference) = ty else {
        return context::checked(ty, false, sig, errors);
    };
    if reference
        .lifetime
        .as_ref()
        .is_some_and(|lifetime| lifetime.ident == "static")
    {
        return context::checked(ty, false, sig, errors);
    }
    let noun = object.noun();
    errors.push(error(
        reference_prefix(reference),
        format!("a {noun}-bound routine owns its context: take it by value (`context: C`), since the context is moved to the worker thread (a reference would be `'static` at least); a routine that borrows its context from the item that keeps it is an Ex routine run by a `ReusableExWorkItem`, `fn name(context: &C)`"),
    ));
    if unsized_owned_form(&reference.elem).is_some() {
        return context::invalid(&reference.elem, true);
    }
    context::checked(&reference.elem, true, sig, errors)
}

/// KMDF: `fn(&C)`, `fn(&C, &RunningWdfWorkItem<'_, name>)`; the context lives
/// in the item's context space and the callback borrows it. `parens`: the
/// signature's `(..)`, where a routine with no parameter is reported.
pub(super) fn wdf(
    ident: &Ident,
    parens: Span,
    sig: &Signature<'_>,
    parent: WdfParent,
    errors: &mut Errors,
) -> Wdf {
    const SHAPE: &str = "a KMDF routine borrows the context the item keeps: `fn name(context: &C)` or `fn name(context: &C, item: &RunningWdfWorkItem<'_, name>)`";
    let params = &sig.params;
    let takes_item = params.len() == 2 && is_running_wdf_item(&params[1].ty);
    let wdf = |context| Wdf {
        parent,
        context,
        takes_item,
    };
    // The WDM shape on a KMDF routine: the one mistake, at its parameter.
    if let Some(object) = params
        .iter()
        .find(|param| mentions_device_object(&param.ty) || mentions_driver_object(&param.ty))
    {
        errors.push(error(
            object,
            format!("a KMDF routine is not lent a WDM object: the framework calls it with its WDFWORKITEM, and `item.parent()` is the item's parent (the WDFDEVICE); take `fn {ident}(context: &C, item: &RunningWdfWorkItem<'_, {ident}>)`"),
        ));
        return wdf(None);
    }
    if params.is_empty() {
        errors.push(syn::Error::new(parens, SHAPE));
        return wdf(None);
    }
    if params.len() > 2 || (params.len() == 2 && !takes_item) {
        errors.push(error(params[params.len() - 1], SHAPE));
        return wdf(None);
    }
    if takes_item {
        own_wdf_item(ident, &params[1].ty, errors);
    }
    let ty = peel(&params[0].ty);
    let Type::Reference(reference) = ty else {
        errors.push(error(ty, SHAPE));
        return wdf(Some(context::invalid(ty, false)));
    };
    if let Some(prefix) = mut_prefix(reference) {
        errors.push(error(
            prefix,
            "a KMDF routine cannot take its context by `&mut`: the item keeps the context and others may read it (`WdfWorkItem::context`); use interior mutability (atomics, a lock)",
        ));
    }
    wdf(Some(context::checked(&reference.elem, true, sig, errors)))
}

/// A KMDF routine's item parameter names the routine itself.
fn own_wdf_item(ident: &Ident, ty: &Type, errors: &mut Errors) {
    if let Some(argument) = other_routine(ident, item_type(ty)) {
        errors.push(error(
            argument,
            format!("a KMDF routine receives its own work item: write `&RunningWdfWorkItem<'_, {ident}>`"),
        ));
    }
}
