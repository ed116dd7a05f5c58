//! Syntax -> model, collecting every independent error, each spanned at the
//! user's token.

use quote::{ToTokens, quote};
use syn::{
    FnArg, GenericArgument, GenericParam, Ident, Lifetime, Pat, PatType, PathArguments, ReturnType,
    Type, TypeParamBound,
};

use crate::args::{Args, StatedRole};
use crate::errors::Errors;
use crate::model::{self, ContextParam, IoObjectKind, Role, Routine};
use crate::parse::ItemFn;

fn error(tokens: impl ToTokens, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new_spanned(tokens, message)
}

const SHAPES: &str = "`fn name(context: C)`, `fn name(context: &C)`, `fn name()`, `fn name(device: &DeviceObject, context: C)` or `fn name(device: &DeviceObject, context: C, item: IoWorkItem<name>)`";

/// What the signature says, checked. Returns `None` when no generated item
/// can stand beside the function (a method: the attribute is inside an `impl`).
///
/// Reads `item` only; the expansion strips what it reported (a C-variadic
/// `...`) from the function it re-emits.
pub(crate) fn routine(item: &ItemFn, args: &Args, errors: &mut Errors) -> Option<Routine> {
    let sig = &item.sig;
    for attr in item.attrs.iter().filter(|attr| is_work_item(attr)) {
        errors.push(error(
            attr,
            "`#[work_item]` is applied twice: one routine, one attribute; remove this one (and put its arguments on the other)",
        ));
    }
    if let Some(token) = &sig.constness {
        errors.push(error(
            token,
            "a `#[work_item]` routine cannot be `const fn`: it runs on a system worker thread, never at compile time; remove `const`",
        ));
    }
    if let Some(token) = &sig.asyncness {
        errors.push(error(
            token,
            "a `#[work_item]` routine cannot be `async`: a system worker thread calls it once and runs it to completion, with no executor to poll a future; make it a plain `fn`",
        ));
    }
    let c_style = matches!(sig.safety, syn::Safety::Unsafe(_)) && sig.abi.is_some();
    if c_style {
        // A C routine being ported: one error that shows the Rust shape.
        let (unsafety, abi) = (&sig.safety, &sig.abi);
        errors.push(error(
            quote!(#unsafety #abi),
            "a `#[work_item]` routine is the plain Rust function, not the C routine: the attribute generates the `unsafe extern \"system\"` trampoline (`name::ROUTINE`) itself. Write `fn name(context: C)` with the context's own type instead of a `*mut c_void` (a raw pointer is not `Send`: wrap it in a newtype that implements `Send` if it truly may cross threads)",
        ));
    }
    if let syn::Safety::Unsafe(token) = &sig.safety
        && !c_style
    {
        errors.push(error(
            token,
            "a `#[work_item]` routine cannot be `unsafe fn`: the worker thread that calls it has no contract to uphold; make it a safe `fn` and put `unsafe {}` blocks inside",
        ));
    }
    if let Some(abi) = &sig.abi
        && !c_style
    {
        errors.push(error(
            abi,
            "a `#[work_item]` routine is written as a plain Rust `fn`: the attribute generates the `extern \"system\"` trampoline (`name::ROUTINE`) itself; remove the `extern`",
        ));
    }
    let mut declared_lifetimes = Vec::new();
    let generic = sig.generics.lt_token.is_some() || sig.generics.where_clause.is_some();
    if sig.generics.lt_token.is_some() {
        let only_lifetimes = sig
            .generics
            .params
            .iter()
            .all(|param| matches!(param, GenericParam::Lifetime(_)));
        for param in &sig.generics.params {
            if let GenericParam::Lifetime(lifetime) = param {
                declared_lifetimes.push(lifetime.lifetime.ident.to_string());
            }
        }
        let (lt, params, gt) = (
            &sig.generics.lt_token,
            &sig.generics.params,
            &sig.generics.gt_token,
        );
        let message = if only_lifetimes && !params.is_empty() {
            "a `#[work_item]` routine cannot have lifetime parameters: its context is used later, on a system worker thread, so it must be `'static`; take an owned `C`, or `&C` to borrow the context of a reusable item"
        } else {
            "a `#[work_item]` routine cannot be generic: the kernel calls one concrete function through a `WORKER_THREAD_ROUTINE` pointer; name concrete types (a `Box<dyn Trait + Send>` context can hold any implementation)"
        };
        errors.push(error(quote!(#lt #params #gt), message));
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(error(
            where_clause,
            "a `#[work_item]` routine cannot have a `where` clause: it must be one concrete function; remove the clause",
        ));
    }
    if let Some(receiver) = sig.receiver() {
        errors.push(error(
            receiver.self_token,
            "`#[work_item]` goes on a free function, not a method: the routine receives only its context; move it out of the `impl` and pass what `self` held as the context",
        ));
        return None;
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(error(
            variadic.dots,
            "a `#[work_item]` routine cannot be variadic: the kernel passes exactly one context pointer; take one context parameter",
        ));
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        let unit = matches!(model::peel(ty), Type::Tuple(tuple) if tuple.elems.is_empty());
        if !unit {
            errors.push(error(
                ty,
                "a `#[work_item]` routine must return `()`: nothing receives a work item's result; send results back through the context (a channel, an `Arc<Mutex<_>>`, ...)",
            ));
        }
    }

    let params: Vec<&PatType> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(param) => Some(param),
            FnArg::Receiver(_) => None,
        })
        .collect();
    for param in &params {
        check_pattern(&param.pat, errors);
    }

    // The object an Io routine is bound to: named by its type, or (a stated
    // role is trusted over spelling, e.g. `DeviceObject` imported under
    // another name) the first parameter; the generated call checks the type.
    let device_positions = positions(&params, model::mentions_device_object);
    let driver_positions = positions(&params, model::mentions_driver_object);
    let mut object = match (
        args.role,
        device_positions.is_empty(),
        driver_positions.is_empty(),
    ) {
        (Some((StatedRole::Driver, _)), _, _) => Some(IoObjectKind::Driver),
        (Some((StatedRole::Device, _)), _, _) => Some(IoObjectKind::Device),
        (_, false, _) => Some(IoObjectKind::Device),
        (_, true, false) => Some(IoObjectKind::Driver),
        (_, true, true) => None,
    };
    let mut object_positions = match object {
        Some(IoObjectKind::Driver) if !driver_positions.is_empty() => driver_positions.clone(),
        Some(IoObjectKind::Device) if !device_positions.is_empty() => device_positions.clone(),
        Some(_) if params.first().is_some_and(|p| lent_path(&p.ty)) => vec![0],
        _ => Vec::new(),
    };
    match args.role {
        Some((StatedRole::Ex, span)) if object.is_some() => errors.push(syn::Error::new(
            span,
            "`#[work_item(ex)]` contradicts the signature: a routine that takes a `&DeviceObject` (or `&DriverObject`) is queued with IoQueueWorkItem; write `#[work_item(device)]` (or `driver`), or drop that parameter for an Ex routine",
        )),
        Some((StatedRole::Device, span)) if !driver_positions.is_empty() => errors.push(syn::Error::new(
            span,
            "`#[work_item(device)]` contradicts the signature: the routine takes a `&DriverObject`; write `#[work_item(driver)]` for work bound to the driver object",
        )),
        Some((StatedRole::Driver, span)) if !device_positions.is_empty() => errors.push(syn::Error::new(
            span,
            "`#[work_item(driver)]` contradicts the signature: the routine takes a `&DeviceObject`; write `#[work_item(device)]` for work bound to a device",
        )),
        Some((stated @ (StatedRole::Device | StatedRole::Driver), span))
            if object_positions.is_empty() =>
        {
            let kind = if stated == StatedRole::Driver { "driver" } else { "device" };
            let ty = if stated == StatedRole::Driver { "DriverObject" } else { "DeviceObject" };
            errors.push(syn::Error::new(
                span,
                format!("`#[work_item({kind})]` contradicts the signature: a {kind}-bound routine takes the object first, `fn name({kind}: &ntwork::{ty}, context: C)`; without it this is an Ex routine, so write `#[work_item]` or `#[work_item(ex)]`"),
            ));
            object = None;
            object_positions.clear();
        }
        _ => {}
    }

    if let Some((_, span)) = args.parent
        && !matches!(args.role, Some((StatedRole::Wdf, _)))
    {
        errors.push(syn::Error::new(
            span,
            "`parent` is for KMDF work items: write `#[work_item(wdf, parent = ...)]`",
        ));
    }
    let wdf = matches!(args.role, Some((StatedRole::Wdf, _)));
    let rundown = match &args.rundown {
        Some((_, span)) if wdf || object.is_some() => {
            errors.push(syn::Error::new(
                *span,
                "`rundown` is for Ex routines: Io and KMDF work keeps its device or driver object referenced until the routine returns, which keeps the driver loaded; remove it",
            ));
            None
        }
        Some((path, _)) => Some(path.clone()),
        None => None,
    };
    let never_unloads = match &args.never_unloads {
        Some(token) if wdf || object.is_some() => {
            errors.push(syn::Error::new(
                token.span(),
                "`unsafe(never_unloads)` is for Ex routines: Io and KMDF work keeps its device or driver object referenced, which keeps the driver loaded; remove it",
            ));
            None
        }
        Some(token) if args.rundown.is_some() => {
            errors.push(syn::Error::new(
                token.span(),
                "`unsafe(never_unloads)` and `rundown` contradict each other: a driver that cannot unload counts its Ex work nowhere; keep one",
            ));
            None
        }
        Some(token) => Some(token.clone()),
        None => None,
    };
    let before = errors.count();
    let (role, context) = if matches!(args.role, Some((StatedRole::Wdf, _))) {
        object = None;
        wdf_shape(&params, &declared_lifetimes, errors)
    } else if object.is_some() {
        device_shape(
            &item.sig.ident,
            &params,
            &object_positions,
            &declared_lifetimes,
            errors,
        )
    } else {
        ex_shape(&params, &declared_lifetimes, errors)
    };
    // A context type is used in generated items only when nothing in the
    // signature was wrong: follow-on errors about it would repeat the mistake.
    // The one repaired mistake: a device routine's borrowed context, whose
    // stand-in context is the reference made `'static`.
    // A context reported only for not being `Send` (a raw pointer, an `Rc`)
    // is still a valid type: the helpers' signatures keep it, so the calls
    // written for it add no errors, while the trait impls do not use it.
    let repaired = context.and_then(|ty| stand_in_context(&role, ty));
    // A ported C routine's `*mut c_void` is covered by its own error.
    let not_send = !c_style && context.is_some_and(|ty| not_send_hint(ty).is_some());
    if let Some((ty, message)) = context
        .filter(|_| not_send)
        .and_then(|ty| Some((ty, not_send_hint(ty)?)))
    {
        errors.push(error(ty, message));
    }
    let in_signatures = !generic
        && before == 0
        && errors.count() == usize::from(repaired.is_some()) + usize::from(not_send);
    let usable = in_signatures && !not_send;
    let context = context.map(|ty| {
        let mut context = match repaired {
            Some(stand_in) => ContextParam::standing_in(ty, stand_in, usable),
            None => ContextParam::new(ty, usable),
        };
        context.in_signatures = in_signatures;
        context
    });

    let krate = args
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::ntwork));
    Some(Routine {
        vis: item.vis.clone(),
        ident: item.sig.ident.clone(),
        role,
        object: object.unwrap_or(IoObjectKind::Device),
        wdf_parent: args.parent.map(|(kind, _)| kind).unwrap_or_default(),
        rundown,
        never_unloads,
        context,
        krate,
    })
}

/// A device routine's borrowed context (`&C`, reported above) stands in as
/// `&'static C`: what the caller's code passes for it.
fn stand_in_context(role: &Role, ty: &Type) -> Option<Type> {
    if !matches!(role, Role::Device | Role::DeviceEx { .. }) {
        return None;
    }
    match model::peel(ty) {
        Type::Reference(reference)
            if reference.mutability.is_none()
                && reference
                    .lifetime
                    .as_ref()
                    .is_none_or(|lifetime| lifetime.ident != "static") =>
        {
            let elem = &reference.elem;
            Some(syn::parse_quote!(&'static #elem))
        }
        _ => None,
    }
}

/// Another `#[work_item]` (any path ending in it) on the same function. The
/// expansion re-emits the function without it, so it does not expand again.
pub(crate) fn is_work_item(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "work_item")
}

/// For an unsized type (`str`, `[T]`, `dyn Trait`), the sized type that owns
/// one, for the error's suggestion.
fn unsized_owned_form(ty: &Type) -> Option<String> {
    match model::peel(ty) {
        Type::Slice(slice) => Some(format!("Vec<{}>", slice.elem.to_token_stream())),
        Type::TraitObject(object) => Some(format!("Box<{}>", object.to_token_stream())),
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            Some(String::from("String"))
        }
        _ => None,
    }
}

/// `&Path`: how a routine borrows the object the kernel lends it, whatever
/// name the type was imported under.
fn lent_path(ty: &Type) -> bool {
    matches!(model::peel(ty), Type::Reference(r) if r.mutability.is_none() && matches!(model::peel(&r.elem), Type::Path(_)))
}

/// Parameters are plain names (`context`, `mut context`, `_`), so that each
/// one is one value the trampoline hands over.
fn check_pattern(pat: &Pat, errors: &mut Errors) {
    match pat {
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {}
        Pat::Wild(_) => {}
        _ => errors.push(error(
            pat,
            "a `#[work_item]` parameter must be a plain name, like `context: C`; destructure it inside the body (`let (a, b) = context;`)",
        )),
    }
}

/// KMDF: `fn(&C)`, `fn(&C, &RunningWdfWorkItem<'_, name>)`; the context lives
/// in the item's context space and the callback borrows it.
fn wdf_shape<'a>(
    params: &[&'a PatType],
    declared: &[String],
    errors: &mut Errors,
) -> (Role, Option<&'a Type>) {
    const SHAPE: &str = "a KMDF routine borrows the context the item keeps: `fn name(context: &C)` or `fn name(context: &C, item: &RunningWdfWorkItem<'_, name>)`";
    let takes_item = params.len() == 2 && model::is_running_wdf_item(&params[1].ty);
    if params.is_empty() || params.len() > 2 || (params.len() == 2 && !takes_item) {
        let span = params.last().map_or_else(|| quote!(fn), |p| quote!(#p));
        errors.push(error(span, SHAPE));
        return (Role::Wdf { takes_item }, None);
    }
    let ty = model::peel(&params[0].ty);
    let Type::Reference(reference) = ty else {
        errors.push(error(ty, SHAPE));
        return (Role::Wdf { takes_item }, Some(ty));
    };
    if let Some(mutability) = &reference.mutability {
        let and = &reference.and_token;
        errors.push(error(
            quote!(#and #mutability),
            "a KMDF routine cannot take its context by `&mut`: the item keeps the context and others may read it (`WdfWorkItem::context`); use interior mutability (atomics, a lock)",
        ));
    }
    check_context_type(&reference.elem, declared, errors);
    (Role::Wdf { takes_item }, Some(&reference.elem))
}

/// `fn()`, `fn(C)`, `fn(&C)`.
fn ex_shape<'a>(
    params: &[&'a PatType],
    declared: &[String],
    errors: &mut Errors,
) -> (Role, Option<&'a Type>) {
    // A routine written to get its item back, as an Io routine does: the one
    // mistake, reported alone.
    let items = positions(params, |ty| model::is_io_work_item(item_type(ty)));
    for &position in &items {
        errors.push(error(
            params[position],
            "an Ex routine does not get its work item back (ExQueueWorkItem's item is freed before the routine runs): queue the next run from the body (`name::queue(..)`), or bind the routine to a device, `fn name(device: &DeviceObject, context: C, item: RunningIoWorkItem<'_, name>)`",
        ));
    }
    let params = &without(params, &items)[..];
    if params.len() > 1 {
        let extra: Vec<_> = params[1..].iter().collect();
        errors.push(error(
            quote!(#(#extra),*),
            format!(
                "an Ex routine takes at most one parameter, its context: bundle these values into a struct or a tuple and take that (the shapes are {SHAPES})"
            ),
        ));
    }
    let Some(param) = params.first() else {
        return (Role::Ex { borrowed: true }, None);
    };
    let ty = model::peel(&param.ty);
    if let Type::Reference(reference) = ty {
        if let Some(mutability) = &reference.mutability {
            let and = &reference.and_token;
            errors.push(error(
                quote!(#and #mutability),
                "a `#[work_item]` routine cannot take its context by `&mut`: the context is shared with the item that queued it; take it by value (`C`) to own it, or by `&C` and use interior mutability (atomics, a lock)",
            ));
        }
        match &reference.lifetime {
            Some(lifetime) if lifetime.ident == "static" => {
                // `&'static T` is an owned context that happens to be a reference.
                check_context_type(ty, declared, errors);
                return (Role::Ex { borrowed: false }, Some(ty));
            }
            Some(lifetime) if lifetime.ident != "_" => check_lifetime(lifetime, declared, errors),
            _ => {}
        }
        if let Some(owned) = unsized_owned_form(&reference.elem) {
            errors.push(error(
                &reference.elem,
                format!("a borrowed context must be a sized type: the item stores the context itself and lends it to the routine. Take `&{owned}` (the item stores a `{owned}`), or an owned `{owned}`, or `&'static` data"),
            ));
            return (Role::Ex { borrowed: true }, Some(&reference.elem));
        }
        check_context_type(&reference.elem, declared, errors);
        return (Role::Ex { borrowed: true }, Some(&reference.elem));
    }
    check_context_type(ty, declared, errors);
    (Role::Ex { borrowed: false }, Some(ty))
}

/// `fn(&DeviceObject, C)`, `fn(&DeviceObject, C, IoWorkItem<name>)`, and the
/// same without a context.
fn device_shape<'a>(
    ident: &Ident,
    params: &[&'a PatType],
    device_positions: &[usize],
    declared: &[String],
    errors: &mut Errors,
) -> (Role, Option<&'a Type>) {
    let first = device_positions[0];
    if first != 0 {
        errors.push(error(
            params[first],
            "the device object comes first in a device-bound routine, as in IO_WORKITEM_ROUTINE (IoQueueWorkItem): `fn name(device: &DeviceObject, context: C)`",
        ));
    }
    for &position in &device_positions[1..] {
        errors.push(error(
            params[position],
            "a device-bound routine takes one device object, as its first parameter: `fn name(device: &DeviceObject, context: C)`",
        ));
    }
    check_device_param(&params[first].ty, errors);

    let rest = without(params, device_positions);
    let item_positions = positions(&rest, |ty| model::is_io_work_item(item_type(ty)));
    let contexts = without(&rest, &item_positions);

    for &position in &item_positions {
        let ty = model::peel(&rest[position].ty);
        if let Type::Reference(reference) = ty {
            let fix = if model::is_lent_io_work_item(&reference.elem) {
                format!("item: RunningIoWorkItem<'_, {ident}>")
            } else {
                format!("item: IoWorkItem<{ident}>")
            };
            errors.push(error(
                reference_prefix(reference),
                format!(
                    "a device-bound routine takes its work item by value: `{fix}` (the routine may requeue, keep or free it)"
                ),
            ));
        }
        check_item_param(item_type(ty), ident, errors);
    }
    if let Some(&position) = item_positions.first()
        && (position + 1 != rest.len() || item_positions.len() > 1)
    {
        errors.push(error(
            rest[position],
            "the work item comes last in a device-bound routine: `fn name(device: &DeviceObject, context: C, item: IoWorkItem<name>)`",
        ));
    }
    if contexts.len() > 1 {
        let extra = &contexts[1..];
        errors.push(error(
            quote!(#(#extra),*),
            format!(
                "a device-bound routine takes the device object, one context and optionally its work item: bundle these values into a struct or a tuple (the shapes are {SHAPES})"
            ),
        ));
    }
    let role = if let Some(&position) = item_positions.first() {
        Role::DeviceEx {
            lent: model::is_lent_io_work_item(item_type(&rest[position].ty)),
        }
    } else {
        Role::Device
    };
    let Some(param) = contexts.first() else {
        return (role, None);
    };
    let ty = model::peel(&param.ty);
    if let Type::Reference(reference) = ty {
        let is_static = reference
            .lifetime
            .as_ref()
            .is_some_and(|lifetime| lifetime.ident == "static");
        if !is_static {
            errors.push(error(
                reference_prefix(reference),
                "a device-bound routine owns its context: take it by value (`context: C`), since the context is moved to the worker thread (a reference would be `'static` at least)",
            ));
            // The stand-in's context is this reference made `'static`
            // (`stand_in_context`), so calls written for it add no errors.
            check_context_type(&reference.elem, declared, errors);
            return (role, Some(ty));
        }
    }
    check_context_type(ty, declared, errors);
    (role, Some(ty))
}

/// A reference type's `&'a mut`, where an error about taking by reference points.
fn reference_prefix(reference: &syn::TypeReference) -> proc_macro2::TokenStream {
    let (and, lifetime, mutability) = (
        &reference.and_token,
        &reference.lifetime,
        &reference.mutability,
    );
    quote!(#and #lifetime #mutability)
}

/// An item parameter's type behind one reference: `&IoWorkItem<name>` is the
/// item written by reference, reported as such.
fn item_type(ty: &Type) -> &Type {
    match model::peel(ty) {
        Type::Reference(reference) => model::peel(&reference.elem),
        other => other,
    }
}

/// The item parameter is `IoWorkItem<name>` or `RunningIoWorkItem<'_, name>`
/// (`Self` is left to rustc: it is not allowed in a function).
fn check_item_param(ty: &Type, ident: &Ident, errors: &mut Errors) {
    let Some(segment) = model::last_segment(ty) else {
        return;
    };
    let PathArguments::AngleBracketed(angle) = &segment.arguments else {
        return;
    };
    // The lent form's lifetime (`'_`) is rustc's to check.
    let types: Vec<_> = angle
        .args
        .iter()
        .filter(|argument| !matches!(argument, GenericArgument::Lifetime(_)))
        .collect();
    let [GenericArgument::Type(argument)] = types[..] else {
        return;
    };
    let Some(name) = model::last_segment(argument) else {
        return;
    };
    if name.ident != *ident && name.ident != "Self" {
        let written = if segment.ident == "RunningIoWorkItem" {
            format!("RunningIoWorkItem<'_, {ident}>")
        } else {
            format!("IoWorkItem<{ident}>")
        };
        errors.push(error(
            argument,
            format!("a device-bound routine receives its own work item: write `{written}`"),
        ));
    }
}

/// The device parameter is `&DeviceObject`: the kernel lends it for the call.
fn check_device_param(ty: &Type, errors: &mut Errors) {
    const MESSAGE: &str = "the device parameter must be `&DeviceObject`: IoQueueWorkItem lends the device object to the routine for the duration of the call";
    match model::peel(ty) {
        Type::Reference(reference) => {
            if let Some(mutability) = &reference.mutability {
                let and = &reference.and_token;
                errors.push(error(quote!(#and #mutability), MESSAGE));
            } else if let Some(lifetime) = &reference.lifetime
                && lifetime.ident != "_"
            {
                errors.push(error(lifetime, MESSAGE));
            } else if !matches!(model::peel(&reference.elem), Type::Path(_)) {
                errors.push(error(&reference.elem, MESSAGE));
            }
        }
        other => errors.push(error(other, MESSAGE)),
    }
}

fn check_lifetime(lifetime: &Lifetime, declared: &[String], errors: &mut Errors) {
    if lifetime.ident == "static" || declared.iter().any(|name| lifetime.ident == name) {
        return;
    }
    errors.push(error(
        lifetime,
        format!(
            "a work item's context must be `'static`: it is used later, on a system worker thread, after the caller has returned, so it cannot borrow for `{lifetime}`; use an owned type (`String`, `Box<T>`, `Arc<T>`)"
        ),
    ));
}

/// The context type has no lifetimes but `'static` and is concrete.
/// The error for a context that is a raw pointer or an `Rc`: not `Send`, with
/// a well-known replacement to name (rustc's own error says only "cannot be
/// sent between threads safely").
fn not_send_hint(ty: &Type) -> Option<&'static str> {
    match model::peel(ty) {
        Type::Ptr(_) => Some(
            "a raw pointer is not `Send`, and a work item's context moves to a system worker thread: wrap it in a newtype that implements `Send` (`struct Irp(*mut IRP); unsafe impl Send for Irp {}`), with a `// SAFETY:` comment saying why the pointee may be used from another thread",
        ),
        Type::Path(path)
            if path.qself.is_none()
                && path
                    .path
                    .segments
                    .last()
                    .is_some_and(|last| last.ident == "Rc") =>
        {
            Some(
                "an `Rc` is not `Send` (its count is not atomic), and a work item's context moves to a system worker thread: use `Arc`",
            )
        }
        _ => None,
    }
}

fn check_context_type(ty: &Type, declared: &[String], errors: &mut Errors) {
    match ty {
        Type::Reference(reference) => {
            match &reference.lifetime {
                Some(lifetime) => check_lifetime(lifetime, declared, errors),
                None => errors.push(error(
                    reference.and_token,
                    "a work item's context must be `'static`: it is used later, on a system worker thread, so it cannot hold a borrowed reference; use an owned type, or `&'static T`",
                )),
            }
            check_context_type(&reference.elem, declared, errors);
        }
        Type::Path(path) => {
            if let Some(qself) = &path.qself {
                check_context_type(&qself.ty, declared, errors);
            }
            for segment in &path.path.segments {
                check_arguments(&segment.arguments, declared, errors);
            }
        }
        Type::Tuple(tuple) => {
            for elem in &tuple.elems {
                check_context_type(elem, declared, errors);
            }
        }
        Type::Array(array) => check_context_type(&array.elem, declared, errors),
        Type::Slice(slice) => check_context_type(&slice.elem, declared, errors),
        Type::Paren(paren) => check_context_type(&paren.elem, declared, errors),
        Type::Group(group) => check_context_type(&group.elem, declared, errors),
        Type::Ptr(ptr) => check_context_type(&ptr.elem, declared, errors),
        Type::ImplTrait(impl_trait) => errors.push(error(
            impl_trait.impl_token,
            "a `#[work_item]` context cannot be `impl Trait`: that makes the routine generic, and the kernel calls one concrete function; name a concrete type, or take a `Box<dyn Trait + Send>`",
        )),
        Type::TraitObject(object) => {
            for bound in &object.bounds {
                match bound {
                    TypeParamBound::Lifetime(lifetime) => check_lifetime(lifetime, declared, errors),
                    TypeParamBound::Trait(trait_bound) if trait_bound.lifetimes.is_none() => {
                        for segment in &trait_bound.path.segments {
                            check_arguments(&segment.arguments, declared, errors);
                        }
                    }
                    _ => {}
                }
            }
        }
        // Function pointers are higher-ranked (`fn(&T)` is `'static`); macros
        // and the rest are left to rustc.
        _ => {}
    }
}

fn check_arguments(arguments: &PathArguments, declared: &[String], errors: &mut Errors) {
    let PathArguments::AngleBracketed(angle) = arguments else {
        // `Fn(&T)` sugar is higher-ranked.
        return;
    };
    for argument in &angle.args {
        match argument {
            GenericArgument::Lifetime(lifetime) => check_lifetime(lifetime, declared, errors),
            GenericArgument::Type(ty) => check_context_type(ty, declared, errors),
            GenericArgument::AssocType(assoc) => check_context_type(&assoc.ty, declared, errors),
            _ => {}
        }
    }
}

/// The positions of the parameters whose type satisfies `matches`.
fn positions(params: &[&PatType], matches: impl Fn(&Type) -> bool) -> Vec<usize> {
    params
        .iter()
        .enumerate()
        .filter(|(_, param)| matches(&param.ty))
        .map(|(i, _)| i)
        .collect()
}

/// The parameters not at `positions`, in order.
fn without<'a>(params: &[&'a PatType], positions: &[usize]) -> Vec<&'a PatType> {
    params
        .iter()
        .enumerate()
        .filter(|(i, _)| !positions.contains(i))
        .map(|(_, param)| *param)
        .collect()
}
