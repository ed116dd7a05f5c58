//! The KMDF role: `WdfRoutine` with its context-type statics, and `create`.

use proc_macro2::{Ident, Literal, Span};
use quote::quote;

use super::frame::{Frame, Names};
use super::{Helper, Impl, Item, Kept, Method, Plan, docs, respan};
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
    let create_doc = docs::wdf_create(&frame.name);
    let create_fn = frame.at_user("create");
    let create = Helper {
        listed: Some("create"),
        item: Item::Fn {
            attrs: quote!(#[doc = #create_doc]),
            sig: quote! {
                #vis fn #create_fn #generics(
                    #parent: &#krate::wdf::#parent_ty,
                    #ctx: #param_ty,
                    #serialization: #krate::wdf::Serialization,
                ) -> ::core::result::Result<#krate::wdf::WdfWorkItem<#ident>, #krate::wdf::CreateError<#param_ty>>
            },
            body: quote!(#krate::wdf::WdfWorkItem::create(#parent, #ctx, #serialization)),
        },
        kept: Kept::Always,
    };
    let run = Method {
        sig: quote!(fn run(#item: &#krate::wdf::RunningWdfWorkItem<'_, Self>)),
        body: if wdf.takes_item {
            quote!(#ident(#item.context(), #item))
        } else {
            quote!(#ident(#item.context()))
        },
    };
    Plan {
        impls: vec![wdf_routine(frame, &parent_ty, run)],
        helpers: vec![create],
    }
}

/// `WdfRoutine`: the parent kind and the two context-type statics (the
/// context's, and the one that marks a kept item), each once per routine.
fn wdf_routine(frame: &Frame<'_>, parent_ty: &Ident, run: Method) -> Impl {
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
    Impl {
        header: quote!(impl #wdf_routine for #ident),
        items: quote! {
            type Parent = #krate::wdf::#parent_ty;
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
        methods: vec![run],
    }
}
