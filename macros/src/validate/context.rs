//! The context type: `'static`, concrete, and (where the attribute can see
//! it) `Send`. What the checks find decides where generated items may name it.

use syn::{GenericArgument, Lifetime, PathArguments, Type, TypeParamBound};

use super::signature::Signature;
use super::syntax::{error, first_span, names_trait, peel};
use crate::errors::Errors;
use crate::model::{Checked, Context};

/// Checks `ty`, the context type `C` (`borrowed` for `fn(&C)`), and says what
/// was found: anything but `Checked::Valid` comes with an error. The caller
/// has reported the mistakes of the parameter's shape.
pub(super) fn checked(
    ty: &Type,
    borrowed: bool,
    sig: &Signature<'_>,
    errors: &mut Errors,
) -> Context {
    let before = errors.count();
    check_type(ty, &sig.lifetimes, errors);
    let mut checked = if sig.generic || errors.count() > before {
        Checked::Invalid
    } else {
        Checked::Valid
    };
    // A boxed trait object without `+ Send`: rustc would report the bare
    // `dyn` type deep inside `Box`, without the runtime's note.
    if !borrowed
        && checked == Checked::Valid
        && let Some(fix) = unsendable_trait_object(ty)
    {
        errors.push(error(
            ty,
            format!("a work item's context moves to a system worker thread, so it must be `Send`, and a trait object is only if it says so: write `{fix}`"),
        ));
        checked = Checked::Invalid;
    }
    // A context that is not `Send` (a raw pointer, an `Rc`) is the runtime's
    // one error, at the user's type (`ntwork::WorkContext`, which names the
    // fix), and the generated items keep the type, so no call adds another.
    // A ported C routine's `*mut c_void` is covered by its own error.
    if sig.c_style && is_not_send(ty) && checked == Checked::Valid {
        checked = Checked::NotSend;
    }
    Context {
        ty: ty.clone(),
        span: first_span(ty),
        borrowed,
        checked,
    }
}

/// A context type the caller reported as wrong in itself: no generated item
/// names it.
pub(super) fn invalid(ty: &Type, borrowed: bool) -> Context {
    Context {
        ty: ty.clone(),
        span: first_span(ty),
        borrowed,
        checked: Checked::Invalid,
    }
}

/// For an unsized type (`str`, `[T]`, `dyn Trait`), the sized type that owns
/// one, for the error's suggestion.
pub(super) fn unsized_owned_form(ty: &Type) -> Option<String> {
    use quote::ToTokens;
    match peel(ty) {
        Type::Slice(slice) => Some(format!("Vec<{}>", slice.elem.to_token_stream())),
        Type::TraitObject(object) => Some(format!("Box<{}>", object.to_token_stream())),
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            Some(String::from("String"))
        }
        _ => None,
    }
}

/// A lifetime in the context is `'static`, or declared (and reported as such).
pub(super) fn check_lifetime(lifetime: &Lifetime, declared: &[String], errors: &mut Errors) {
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

/// The std traits a boxed context names that have no `Send` supertrait.
const STD_TRAITS: [&str; 10] = [
    "FnOnce", "FnMut", "Fn", "Any", "Debug", "Display", "Error", "Iterator", "Send", "Sync",
];

/// A std trait of [`STD_TRAITS`]: a prelude name alone (`FnOnce`), or a path
/// under `std`, `core` or `alloc` (`std::fmt::Debug`); a name imported or
/// reached through a module of the driver's (`jobs::Error`) may be its own
/// trait.
fn is_std_trait(path: &syn::Path) -> bool {
    let Some(last) = path.segments.last() else {
        return false;
    };
    if path.segments.len() == 1 {
        // Only the prelude's names are std's for sure: `Error` or `Debug`
        // alone may be imported from anywhere.
        return PRELUDE_TRAITS.iter().any(|name| last.ident == name);
    }
    let std_root = path.segments.first().is_some_and(|first| {
        ["std", "core", "alloc"]
            .iter()
            .any(|root| first.ident == root)
    });
    std_root && STD_TRAITS.iter().any(|name| last.ident == name)
}

/// The traits of [`STD_TRAITS`] in the prelude, recognized unqualified.
const PRELUDE_TRAITS: [&str; 6] = ["FnOnce", "FnMut", "Fn", "Iterator", "Send", "Sync"];

/// `Box<dyn Trait>` without `Send`, or `Arc<dyn Trait>` without `Send` and
/// `Sync`, where every trait is std's: the type written with the bounds it
/// needs.
fn unsendable_trait_object(ty: &Type) -> Option<String> {
    use quote::ToTokens;
    let Type::Path(path) = peel(ty) else {
        return None;
    };
    let segment = path.path.segments.last()?;
    let needs: &[&str] = match segment.ident.to_string().as_str() {
        "Box" => &["Send"],
        "Arc" => &["Send", "Sync"],
        _ => return None,
    };
    let PathArguments::AngleBracketed(angle) = &segment.arguments else {
        return None;
    };
    let [GenericArgument::Type(inner)] = angle.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let Type::TraitObject(object) = peel(inner) else {
        return None;
    };
    // A trait of the user's may have `Send` as a supertrait (`trait Job:
    // Send`): only std's traits, which have none, are known to need it.
    let std_traits = object.bounds.iter().all(|bound| match bound {
        TypeParamBound::Trait(t) => is_std_trait(&t.path),
        _ => true,
    });
    if !std_traits {
        return None;
    }
    let missing: Vec<&str> = needs
        .iter()
        .copied()
        .filter(|name| {
            !object
                .bounds
                .iter()
                .any(|bound| names_trait(bound, &[name]))
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(format!(
        "{}<{} + {}>",
        segment.ident,
        object.to_token_stream(),
        missing.join(" + ")
    ))
}

/// A raw pointer or an `Rc`: what a ported C routine's context often is, and
/// never `Send`.
fn is_not_send(ty: &Type) -> bool {
    match peel(ty) {
        Type::Ptr(_) => true,
        Type::Path(path) => {
            path.qself.is_none()
                && path
                    .path
                    .segments
                    .last()
                    .is_some_and(|last| last.ident == "Rc")
        }
        _ => false,
    }
}

/// The context type has no lifetimes but `'static` (or declared ones) and is
/// concrete.
fn check_type(ty: &Type, declared: &[String], errors: &mut Errors) {
    match ty {
        Type::Reference(reference) => {
            match &reference.lifetime {
                Some(lifetime) => check_lifetime(lifetime, declared, errors),
                None => errors.push(error(
                    reference.and_token,
                    "a work item's context must be `'static`: it is used later, on a system worker thread, so it cannot hold a borrowed reference; use an owned type, or `&'static T`",
                )),
            }
            check_type(&reference.elem, declared, errors);
        }
        Type::Path(path) => {
            if let Some(qself) = &path.qself {
                check_type(&qself.ty, declared, errors);
            }
            for segment in &path.path.segments {
                check_arguments(&segment.arguments, declared, errors);
            }
        }
        Type::Tuple(tuple) => {
            for elem in &tuple.elems {
                check_type(elem, declared, errors);
            }
        }
        Type::Array(array) => check_type(&array.elem, declared, errors),
        Type::Slice(slice) => check_type(&slice.elem, declared, errors),
        Type::Paren(paren) => check_type(&paren.elem, declared, errors),
        Type::Group(group) => check_type(&group.elem, declared, errors),
        Type::Ptr(ptr) => check_type(&ptr.elem, declared, errors),
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
            GenericArgument::Type(ty) => check_type(ty, declared, errors),
            GenericArgument::AssocType(assoc) => check_type(&assoc.ty, declared, errors),
            _ => {}
        }
    }
}
