//! The function as a whole: the attribute applied once, no qualifier the
//! worker thread cannot call, no generics, no receiver, one concrete
//! function returning `()`, parameters that are plain names.

use quote::quote;
use syn::{FnArg, GenericParam, Pat, PatType, ReturnType, Signature as SynSignature, Type};

use super::syntax::{error, peel};
use crate::errors::Errors;
use crate::parse::ItemFn;

/// What the later checks need to know of the signature.
pub(super) struct Signature<'a> {
    /// The typed parameters, in order.
    pub(super) params: Vec<&'a PatType>,
    /// The lifetimes the function declares (reported; not reported again
    /// where the context uses them).
    pub(super) lifetimes: Vec<String>,
    /// The function has generic parameters or a `where` clause (reported):
    /// its context type may name them, so no generated item does.
    pub(super) generic: bool,
    /// A ported C routine, `unsafe extern "system" fn(*mut c_void)`,
    /// reported as one: its raw-pointer context is covered by that error.
    pub(super) c_style: bool,
}

/// Checks the function. `None` when no generated item can stand beside it:
/// a method, whose attribute is inside an `impl`.
pub(super) fn check<'a>(item: &'a ItemFn, errors: &mut Errors) -> Option<Signature<'a>> {
    let sig = &item.sig;
    for attr in item.attrs.iter().filter(|attr| is_work_item(attr)) {
        errors.push(error(
            attr,
            "`#[work_item]` is applied twice: one routine, one attribute; remove this one (and put its arguments on the other)",
        ));
    }
    let c_style = qualifiers(sig, errors);
    let lifetimes = generics(sig, errors);
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
    output(&sig.output, errors);
    Some(Signature {
        params: params(sig, errors),
        lifetimes,
        generic: sig.generics.lt_token.is_some() || sig.generics.where_clause.is_some(),
        c_style,
    })
}

/// Another `#[work_item]` (any path ending in it) on the same function. The
/// expansion re-emits the function without it, so it does not expand again.
pub(crate) fn is_work_item(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "work_item")
}

/// `const`, `async`, `unsafe`, `extern`; returns whether the function is a
/// C routine being ported (`unsafe extern`), reported as one error.
fn qualifiers(sig: &SynSignature, errors: &mut Errors) -> bool {
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
        let (unsafety, abi) = (&sig.safety, &sig.abi);
        errors.push(error(
            quote!(#unsafety #abi),
            "a `#[work_item]` routine is the plain Rust function, not the C routine: the attribute generates the `unsafe extern \"system\"` trampoline (`name::ROUTINE`) itself. Write `fn name(context: C)` with the context's own type instead of a `*mut c_void` (a raw pointer is not `Send`: wrap it in a newtype that implements `Send` if it truly may cross threads)",
        ));
        return true;
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        errors.push(error(
            token,
            "a `#[work_item]` routine cannot be `unsafe fn`: the worker thread that calls it has no contract to uphold; make it a safe `fn` and put `unsafe {}` blocks inside",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(error(
            abi,
            "a `#[work_item]` routine is written as a plain Rust `fn`: the attribute generates the `extern \"system\"` trampoline (`name::ROUTINE`) itself; remove the `extern`",
        ));
    }
    false
}

/// Generic parameters and `where` clauses; returns the declared lifetimes.
fn generics(sig: &SynSignature, errors: &mut Errors) -> Vec<String> {
    let generics = &sig.generics;
    let lifetimes = generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Lifetime(lifetime) => Some(lifetime.lifetime.ident.to_string()),
            _ => None,
        })
        .collect::<Vec<_>>();
    if generics.lt_token.is_some() {
        let (lt, params, gt) = (&generics.lt_token, &generics.params, &generics.gt_token);
        let message = if !params.is_empty() && lifetimes.len() == params.len() {
            "a `#[work_item]` routine cannot have lifetime parameters: its context is used later, on a system worker thread, so it must be `'static`; take an owned `C`, or `&C` to borrow the context of a reusable item"
        } else {
            "a `#[work_item]` routine cannot be generic: the kernel calls one concrete function through a `WORKER_THREAD_ROUTINE` pointer; name concrete types (a `Box<dyn Trait + Send>` context can hold any implementation)"
        };
        errors.push(error(quote!(#lt #params #gt), message));
    }
    if let Some(where_clause) = &generics.where_clause {
        errors.push(error(
            where_clause,
            "a `#[work_item]` routine cannot have a `where` clause: it must be one concrete function; remove the clause",
        ));
    }
    lifetimes
}

/// The routine returns `()`.
fn output(output: &ReturnType, errors: &mut Errors) {
    if let ReturnType::Type(_, ty) = output {
        let unit = matches!(peel(ty), Type::Tuple(tuple) if tuple.elems.is_empty());
        if !unit {
            errors.push(error(
                ty,
                "a `#[work_item]` routine must return `()`: nothing receives a work item's result; send results back through the context (a channel, an `Arc<Mutex<_>>`, ...)",
            ));
        }
    }
}

/// The typed parameters; each is a plain name (`context`, `mut context`,
/// `_`), one value the trampoline hands over.
fn params<'a>(sig: &'a SynSignature, errors: &mut Errors) -> Vec<&'a PatType> {
    let params: Vec<&PatType> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(param) => Some(param),
            FnArg::Receiver(_) => None,
        })
        .collect();
    for param in &params {
        match &*param.pat {
            Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {}
            Pat::Wild(_) => {}
            pat => errors.push(error(
                pat,
                "a `#[work_item]` parameter must be a plain name, like `context: C`; destructure it inside the body (`let (a, b) = context;`)",
            )),
        }
    }
    params
}
