//! After an error: the role's plan as stand-ins. Same traits, same helper
//! signatures (so the user's calls still type-check and add no errors),
//! bodies `loop {}` and parameters `_`-named; the helpers that only make
//! sense for a valid routine are left out.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Frame, Helper, Impl, Kept, Method, Names, plan};

pub(super) fn stand_ins(frame: &Frame<'_>) -> TokenStream {
    let ident = &frame.routine.ident;
    let plan = plan(frame, &Names::unused());
    let impls = plan.impls.into_iter().map(
        |Impl {
             header,
             items,
             methods,
         }| {
            let methods = methods
                .into_iter()
                .map(|Method { sig, .. }| quote!(#sig { loop {} }));
            quote!(#header { #items #(#methods)* })
        },
    );
    let helpers = plan.helpers.into_iter().filter_map(|helper| match helper {
        Helper::Fn {
            attrs,
            sig,
            kept: Kept::Always,
            ..
        } => Some(quote!(#attrs #sig { loop {} })),
        Helper::Const {
            item,
            kept: Kept::Always,
        } => Some(item),
        _ => None,
    });
    quote! {
        #(#impls)*
        impl #ident {
            #(#helpers)*
        }
    }
}
