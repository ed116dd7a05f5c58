//! The role: stated in the attribute or read from the signature, with the
//! arguments only some roles take (`parent`, `rundown`, `unsafe(never_unloads)`).

use syn::PatType;

use super::syntax::{
    error, lent_path, mentions_device_object, mentions_driver_object, positions, typed_device,
    wraps,
};
use crate::args::{Args, StatedRole};
use crate::errors::Errors;
use crate::model::{IoObject, Unload, WdfParent};

/// The role chosen, before its parameters are read.
pub(super) enum Choice {
    /// An Ex routine, its items counted as `Unload` says.
    Ex(Unload),
    /// An Io routine: the object, and where the parameters naming it are
    /// (never empty).
    Io(IoObject, Vec<usize>),
    /// A KMDF routine.
    Wdf(WdfParent),
}

/// Chooses the role, reporting a stated role the signature contradicts and
/// each argument the role does not take.
pub(super) fn choose(args: &Args, params: &[&PatType], errors: &mut Errors) -> Choice {
    let stated = args.role.map(|(role, _)| role);
    let io = io_object(args, params, errors);
    if let Some((_, span)) = args.parent
        && stated != Some(StatedRole::Wdf)
    {
        errors.push(syn::Error::new(
            span,
            "`parent` is for KMDF work items: write `#[work_item(wdf, parent = ...)]`",
        ));
    }
    let unload = unload(
        args,
        stated == Some(StatedRole::Wdf) || io.is_some(),
        errors,
    );
    match (stated, io) {
        (Some(StatedRole::Wdf), _) => {
            Choice::Wdf(args.parent.map(|(kind, _)| kind).unwrap_or_default())
        }
        (_, Some((object, positions))) => Choice::Io(object, positions),
        (_, None) => Choice::Ex(unload),
    }
}

/// The object an Io routine is bound to: named by its type, or (a stated
/// role is trusted over spelling, e.g. `DeviceObject` imported under another
/// name) the first parameter; the generated call checks the type. `None` for
/// an Ex routine, or a stated Io role without an object (reported).
fn io_object(
    args: &Args,
    params: &[&PatType],
    errors: &mut Errors,
) -> Option<(IoObject, Vec<usize>)> {
    let mut devices = positions(params, mentions_device_object);
    let mut drivers = positions(params, mentions_driver_object);
    // `fn name(device: Option<&DeviceObject>, context: C)`, `ARef<..>`, or
    // ntwork's owner `&Device<E>`: the object parameter written wrong
    // (reported). Alone, such a type may be an Ex routine's context.
    if let Some(first) = params.first().filter(|_| params.len() > 1)
        && devices.is_empty()
        && drivers.is_empty()
    {
        if wraps(&first.ty, "DeviceObject") || typed_device(&first.ty).is_some() {
            devices.push(0);
        } else if wraps(&first.ty, "DriverObject") {
            drivers.push(0);
        }
    }
    let object = match args.role {
        Some((StatedRole::Driver, _)) => IoObject::Driver,
        Some((StatedRole::Device, _)) => IoObject::Device,
        _ if !devices.is_empty() => IoObject::Device,
        _ if !drivers.is_empty() => IoObject::Driver,
        _ => return None,
    };
    let (named, other) = match object {
        IoObject::Device => (&devices, &drivers),
        IoObject::Driver => (&drivers, &devices),
    };
    // The object's parameter: of its type; or first, as `&Path`; or of the
    // other object's type (a contradiction, reported below).
    let at = if !named.is_empty() {
        named.clone()
    } else if params.first().is_some_and(|param| lent_path(&param.ty)) {
        vec![0]
    } else {
        other.clone()
    };
    match args.role {
        Some((StatedRole::Ex, span)) => errors.push(syn::Error::new(
            span,
            "`#[work_item(ex)]` contradicts the signature: a routine that takes a `&DeviceObject` (or `&DriverObject`) is queued with IoQueueWorkItem; write `#[work_item(device)]` (or `driver`), or drop that parameter for an Ex routine",
        )),
        Some((StatedRole::Device, span)) if !drivers.is_empty() => errors.push(syn::Error::new(
            span,
            "`#[work_item(device)]` contradicts the signature: the routine takes a `&DriverObject`; write `#[work_item(driver)]` for work bound to the driver object",
        )),
        Some((StatedRole::Driver, span)) if !devices.is_empty() => errors.push(syn::Error::new(
            span,
            "`#[work_item(driver)]` contradicts the signature: the routine takes a `&DeviceObject`; write `#[work_item(device)]` for work bound to a device",
        )),
        Some((StatedRole::Device | StatedRole::Driver, span)) if at.is_empty() => {
            let (noun, ty) = (object.noun(), object.type_name());
            errors.push(syn::Error::new(
                span,
                format!("`#[work_item({noun})]` contradicts the signature: a {noun}-bound routine takes the object first, `fn name({noun}: &ntwork::{ty}, context: C)`; without it this is an Ex routine, so write `#[work_item]` or `#[work_item(ex)]`"),
            ));
            return None;
        }
        _ => {}
    }
    Some((object, at))
}

/// Where an Ex routine's items count: `rundown =` and `unsafe(never_unloads)`
/// are Ex arguments, and exclude each other.
fn unload(args: &Args, not_ex: bool, errors: &mut Errors) -> Unload {
    let rundown = match &args.rundown {
        Some((_, span)) if not_ex => {
            errors.push(syn::Error::new(
                *span,
                "`rundown` is for Ex routines: Io and KMDF work keeps its device or driver object referenced until the routine returns, which keeps the driver loaded; remove it",
            ));
            None
        }
        Some((path, _)) => Some(path),
        None => None,
    };
    let never_unloads = match &args.never_unloads {
        Some(token) if not_ex => {
            errors.push(error(
                token,
                "`unsafe(never_unloads)` is for Ex routines: Io and KMDF work keeps its device or driver object referenced, which keeps the driver loaded; remove it",
            ));
            None
        }
        Some(token) if args.rundown.is_some() => {
            errors.push(error(
                token,
                "`unsafe(never_unloads)` and `rundown` contradict each other: a driver that cannot unload counts its Ex work nowhere; keep one",
            ));
            None
        }
        Some(token) => Some(token),
        None => None,
    };
    match (rundown, never_unloads) {
        (_, Some(token)) => Unload::NeverUnloads(token.clone()),
        (Some(path), None) => Unload::Rundown(path.clone()),
        (None, None) => Unload::AtTheCall,
    }
}
