//! The KMDF role: `WdfRoutine` with its context-type statics, and `create`.

use proc_macro2::{Ident, Literal, Span};
use quote::quote;

use super::docs;
use super::frame::{Frame, Names};
use super::plan::{Helper, Impl, Item, Kept, Method, Plan, respan};
use crate::model::{Routine, Wdf, WdfParent};

pub(super) fn plan(frame: &Frame<'_>, wdf: &Wdf, names: &Names) -> Plan {
    let Routine {
        vis, ident, krate, ..
    } = frame.routine;
    let Names {
        context: ctx,
        item,
        parent,
        serialization,
        ..
    } = names;
    let (generics, param_ty) = (&frame.generics, &frame.param_ty);
    let parent_ty = Ident::new(
        match wdf.parent {
            WdfParent::Device => "WdfDevice",
            WdfParent::Queue => "WdfQueue",
        },
        Span::call_site(),
    );
    let (irql_param, irql) = (frame.dispatch_param(names), &names.irql);
    let create_doc = docs::wdf_create(&frame.name);
    let create_fn = frame.at_user("create");
    // The item lives no longer than the parent's borrow, named: a context
    // type that names a lifetime would make an elided one ambiguous.
    let parent_lt = syn::Lifetime::new("'__parent", Span::mixed_site());
    let create_generics = if generics.is_empty() {
        quote!(<#parent_lt>)
    } else {
        let generic_param = &frame.generic_param;
        quote!(<#parent_lt, #generic_param>)
    };
    let create = Helper {
        listed: Some("create"),
        item: Item::Fn {
            attrs: quote!(#[doc = #create_doc]),
            sig: quote! {
                #vis fn #create_fn #create_generics(
                    #parent: &#parent_lt #krate::wdf::#parent_ty,
                    #ctx: #param_ty,
                    #serialization: #krate::wdf::Serialization,
                    #irql_param,
                ) -> ::core::result::Result<#krate::wdf::WdfWorkItem<#parent_lt, #ident>, #krate::wdf::CreateError<#param_ty>>
            },
            body: quote!(#krate::wdf::WdfWorkItem::create(#parent, #ctx, #serialization, #irql)),
        },
        kept: Kept::Always,
    };
    let run_irql = frame.run_irql(names);
    let mut args = vec![quote!(#item.context())];
    if wdf.takes_item {
        args.push(quote!(#item));
    }
    let run = Method {
        sig: quote!(fn run(#item: &#krate::wdf::RunningWdfWorkItem<'_, Self>, #run_irql)),
        body: frame.call(&args, names),
    };
    let (context_space, routine) = wdf_routine(frame, &parent_ty, run);
    Plan {
        impls: vec![context_space, routine],
        helpers: vec![create],
    }
}

/// `WdfContextSpace`, the two context-type statics (the context's, and the one
/// that marks a kept item), each once per routine: what the runtime trusts, so
/// an `unsafe` trait only the attribute implements; and `WdfRoutine`, the
/// parent kind and `run`.
fn wdf_routine(frame: &Frame<'_>, parent_ty: &Ident, run: Method) -> (Impl, Impl) {
    let Routine { ident, krate, .. } = frame.routine;
    let name = &frame.name;
    let info = Ident::new("INFO", Span::mixed_site());
    let c_string = |suffix: &str| {
        Literal::c_string(&std::ffi::CString::new(format!("{name}_{suffix}")).unwrap_or_default())
    };
    let (c_name, kept_name) = (c_string("CONTEXT"), c_string("KEPT"));
    // Under the user's type, so "`Cell<u32>` cannot be shared between threads
    // safely" (the `Sync` the trait asks of the context) points at it.
    let wdf_routine = respan(quote!(#krate::wdf::WdfRoutine), frame.c_span);
    let context_space = Impl {
        header: quote!(unsafe impl #krate::wdf::WdfContextSpace for #ident),
        items: quote! {
            const CONTEXT_TYPE: &'static #krate::wdf::ContextType = {
                static #info: #krate::wdf::ContextType =
                    #krate::wdf::ContextType::new::<#ident>(#c_name, &#info);
                &#info
            };
            const KEPT_TYPE: &'static #krate::wdf::ContextType = {
                static #info: #krate::wdf::ContextType =
                    #krate::wdf::ContextType::kept(#kept_name, &#info);
                &#info
            };
        },
        methods: Vec::new(),
    };
    let routine = Impl {
        header: quote!(impl #wdf_routine for #ident),
        items: quote! {
            type Parent = #krate::wdf::#parent_ty;
        },
        methods: vec![run],
    };
    (context_space, routine)
}
