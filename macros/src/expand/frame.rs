//! What every role's plan shares: the routine, where its context type may
//! appear, the generated parameters' names, and the struct that carries it all.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};

use crate::model::{Checked, Context, Role, Routine};

/// Names of the generated parameters: hygienic, so a user's `const context`
/// cannot turn them into patterns; `_`-prefixed in stand-ins, whose bodies
/// do not use them.
pub(super) struct Names {
    pub(super) context: Ident,
    pub(super) object: Ident,
    pub(super) item: Ident,
    pub(super) queue: Ident,
    pub(super) rundown: Ident,
    pub(super) parent: Ident,
    pub(super) serialization: Ident,
    pub(super) irql: Ident,
}

impl Names {
    pub(super) fn used() -> Self {
        Names::with_prefix("")
    }

    pub(super) fn unused() -> Self {
        Names::with_prefix("_")
    }

    fn with_prefix(prefix: &str) -> Self {
        let name = |name: &str| Ident::new(&format!("{prefix}{name}"), Span::mixed_site());
        Names {
            context: name("context"),
            object: name("object"),
            item: name("item"),
            queue: name("queue"),
            rundown: name("rundown"),
            parent: name("parent"),
            serialization: name("serialization"),
            irql: name("irql"),
        }
    }
}

/// The routine, and where its context type appears in the generated items.
pub(super) struct Frame<'a> {
    pub(super) routine: &'a Routine,
    /// The routine's name as text, for docs.
    pub(super) name: String,
    /// The context parameter, if the routine has one.
    context: Option<&'a Context>,
    /// `type Context = ..;` under the user's type.
    pub(super) assoc: TokenStream,
    /// Where obligations on the context are reported: the user's type.
    pub(super) c_span: Span,
    /// `<C>` when the helpers are generic over the context (stand-ins for
    /// an invalid type), else nothing.
    pub(super) generics: TokenStream,
    /// The helpers' context type.
    pub(super) param_ty: TokenStream,
    /// The stand-ins' generic context parameter.
    pub(super) generic_param: Ident,
}

impl<'a> Frame<'a> {
    pub(super) fn new(routine: &'a Routine) -> Self {
        let context = match &routine.role {
            Role::Ex(ex) => ex.context.as_ref(),
            Role::Io(io) => io.context.as_ref(),
            Role::Wdf(wdf) => wdf.context.as_ref(),
        };
        let generic_param = Ident::new("C", Span::mixed_site());
        // The trait impls name the context only when it is valid: their
        // `Context` must be `Send + 'static`.
        let (c_ty, c_span) = match context {
            Some(context) if context.checked == Checked::Valid => {
                (context.ty.to_token_stream(), context.span)
            }
            Some(context) => (quote!(()), context.span),
            None => (quote!(()), Span::call_site()),
        };
        // The helpers keep the user's type while it is a type (even one
        // reported for not being `Send`), else, in stand-ins, take any `C`.
        let (generics, param_ty) = match context {
            Some(context) if context.checked == Checked::Invalid => {
                (quote!(<#generic_param>), quote!(#generic_param))
            }
            Some(context) => (quote!(), context.ty.to_token_stream()),
            None => (quote!(), c_ty.clone()),
        };
        // Under the user's type, so "`Rc<..>` cannot be sent between threads
        // safely" and "does not live long enough" point at it.
        let assoc = quote_spanned! {c_span=> type Context = #c_ty; };
        Frame {
            routine,
            name: routine.ident.to_string(),
            context,
            assoc,
            c_span,
            generics,
            param_ty,
            generic_param,
        }
    }

    /// A generated function "defined" at the user's function name, so that
    /// rustc's "associated function defined here" notes point at it.
    pub(super) fn at_user(&self, name: &str) -> Ident {
        Ident::new(
            name,
            Span::call_site().located_at(self.routine.ident.span()),
        )
    }

    /// The run method's proof parameter, named when the routine takes it:
    /// a worker thread runs every routine at PASSIVE_LEVEL.
    pub(super) fn run_irql(&self, names: &Names) -> TokenStream {
        let krate = &self.routine.krate;
        let irql = if self.routine.takes_irql {
            names.irql.to_token_stream()
        } else {
            quote!(_)
        };
        quote!(#irql: &mut #krate::irql::Passive<'_>)
    }

    /// The user function's arguments: `args`, then the proof if it takes one.
    pub(super) fn call(&self, args: &[TokenStream], names: &Names) -> TokenStream {
        let ident = &self.routine.ident;
        let irql = self.routine.takes_irql.then_some(&names.irql);
        quote!(#ident(#(#args,)* #irql))
    }

    /// A helper's proof parameter: `irql: &impl AtMostDispatch`, what
    /// queueing, allocating and creating items need.
    pub(super) fn dispatch_param(&self, names: &Names) -> TokenStream {
        let (krate, irql) = (&self.routine.krate, &names.irql);
        quote!(#irql: &impl #krate::irql::AtMostDispatch)
    }

    pub(super) fn has_context(&self) -> bool {
        self.context.is_some()
    }

    /// `context: C,` in a helper's parameters, or nothing.
    pub(super) fn ctx_param(&self, names: &Names) -> TokenStream {
        let (ctx, param_ty) = (&names.context, &self.param_ty);
        if self.has_context() {
            quote!(#ctx: #param_ty,)
        } else {
            quote!()
        }
    }

    /// The context as an argument: `context`, or `()`.
    pub(super) fn ctx_arg(&self, names: &Names) -> TokenStream {
        let ctx = &names.context;
        if self.has_context() {
            quote!(#ctx)
        } else {
            quote!(())
        }
    }

    /// The routine's struct, carrying everything else.
    ///
    /// The impls ride on the struct (`__private::with_items` emits them after
    /// it): inside an `impl` block rustc drops the struct with its attributes,
    /// so a misplaced `#[work_item]` is the one "struct is not supported"
    /// error instead of one per generated item.
    pub(super) fn carried(&self, doc: &str, items: TokenStream) -> TokenStream {
        let Routine {
            vis, ident, krate, ..
        } = self.routine;
        let assoc = &self.assoc;
        // The type is "defined" at the function's name too, so "the trait
        // `ExRoutine` is not implemented for `name`" points at the function.
        let struct_token = self.at_user("struct");
        let mut braces = Group::new(Delimiter::Brace, TokenStream::new());
        braces.set_span(struct_token.span());
        quote! {
            #[#krate::__private::with_items(
                impl #krate::Routine for #ident {
                    #assoc
                }
                #items
            )]
            #[allow(non_camel_case_types)]
            #[doc = #doc]
            #vis #struct_token #ident #braces
        }
    }
}
