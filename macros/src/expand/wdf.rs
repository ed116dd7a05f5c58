//! The KMDF role: `WdfRoutine` with its context-type static, and `create`.

use proc_macro2::{Ident, Span};
use quote::quote;

use super::{Frame, Helper, Impl, Kept, Method, Names, Plan, respan};
use crate::args::WdfParentKind;
use crate::model::Routine;

pub(super) fn plan(frame: &Frame<'_>, names: &Names, takes_item: bool) -> Plan {
    let Routine {
        vis,
        ident,
        krate,
        wdf_parent,
        ..
    } = frame.routine;
    let Names {
        context: ctx,
        item,
        parent,
        serialization,
        ..
    } = names;
    let name = &frame.name;
    let (generics, param_ty) = (&frame.generics, &frame.param_ty);

    let item_ty = quote!(#krate::wdf::RunningWdfWorkItem<'_, Self>);
    let run = Method {
        sig: quote!(fn run(#item: &#item_ty)),
        body: if takes_item {
            quote!(#ident(#item.context(), #item))
        } else {
            quote!(#ident(#item.context()))
        },
    };
    let info = Ident::new("INFO", Span::mixed_site());
    let c_name = proc_macro2::Literal::c_string(
        &std::ffi::CString::new(format!("{name}_CONTEXT")).unwrap_or_default(),
    );
    let kept_name = proc_macro2::Literal::c_string(
        &std::ffi::CString::new(format!("{name}_KEPT")).unwrap_or_default(),
    );
    let parent_ty = Ident::new(
        match wdf_parent {
            WdfParentKind::Device => "WdfDevice",
            WdfParentKind::Queue => "WdfQueue",
        },
        Span::call_site(),
    );
    // Under the user's type, so "`Cell<u32>` cannot be shared between threads
    // safely" (the `Sync` the trait asks of the context) points at it.
    let wdf_routine = respan(quote!(#krate::wdf::WdfRoutine), frame.c_span);
    // The context types are what the runtime trusts, so they live in an
    // `unsafe` trait only the attribute implements (each a static of its own).
    let impls = vec![
        Impl {
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
        },
        Impl {
            header: quote!(impl #wdf_routine for #ident),
            items: quote! {
                type Parent = #krate::wdf::#parent_ty;
            },
            methods: vec![run],
        },
    ];

    let create_doc = format!(
        " Creates a KMDF work item for `{name}` under `parent` (`WdfWorkItemCreate`), with the context moved into its context space. IRQL <= `DISPATCH_LEVEL`."
    );
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
    let helpers = vec![Helper::Fn {
        attrs: quote!(#[doc = #create_doc]),
        sig: quote! {
            #vis fn #create_fn #create_generics(
                #parent: &#parent_lt #krate::wdf::#parent_ty,
                #ctx: #param_ty,
                #serialization: #krate::wdf::Serialization,
            ) -> ::core::result::Result<#krate::wdf::WdfWorkItem<#parent_lt, #ident>, #krate::wdf::CreateError<#param_ty>>
        },
        body: quote!(#krate::wdf::WdfWorkItem::create(#parent, #ctx, #serialization)),
        kept: Kept::Always,
    }];
    Plan { impls, helpers }
}
