//! Model -> tokens.
//!
//! Each role module (`ex`, `io`, `wdf`) plans the routine's items: its trait
//! impls and its inherent helpers, with their real bodies. Without errors they
//! are emitted as planned; after errors, `fallback` emits the same plan as
//! stand-ins (bodies `loop {}`, parameters `_`-named), so that the user's
//! calls still type-check and add no errors of their own.
//!
//! Every path is absolute (`::core::...`, `::ntwork::...` or the `crate = path`
//! prefix), every generated item has a doc comment and the function's
//! visibility, and the only `unsafe` is forwarding: the trampolines live in
//! the runtime.

mod ex;
mod fallback;
mod io;
mod wdf;

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};

use crate::errors::Errors;
use crate::model::{Role, Routine};
use crate::parse::ItemFn;

/// The function, the generated items (stand-ins if there are errors), and the errors.
pub(crate) fn expand(function: &ItemFn, routine: Option<&Routine>, errors: &Errors) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        body,
    } = function;
    let items = routine
        .map(|routine| {
            let frame = Frame::new(routine);
            let items = if errors.count() == 0 {
                render(&frame, plan(&frame, &Names::used()), &|body| body, &|_| {
                    true
                })
            } else {
                fallback::stand_ins(&frame)
            };
            frame.carried(items)
        })
        .unwrap_or_default();
    let errors = errors.to_compile_errors();
    quote! {
        #(#attrs)*
        #vis #sig #body
        #items
        #errors
    }
}

/// The role's plan for the routine, its parameters named by `names`.
fn plan(frame: &Frame<'_>, names: &Names) -> Plan {
    match frame.routine.role {
        Role::Ex { borrowed } => ex::plan(frame, names, borrowed),
        Role::Wdf { takes_item } => wdf::plan(frame, names, takes_item),
        Role::Device => io::plan(frame, names, io::Item::None),
        Role::DeviceEx { lent: false } => io::plan(frame, names, io::Item::Kept),
        Role::DeviceEx { lent: true } => io::plan(frame, names, io::Item::Lent),
    }
}

/// The plan as tokens: each body through `body` (as planned, or a stand-in's),
/// the helpers `keep` accepts.
fn render(
    frame: &Frame<'_>,
    plan: Plan,
    body: &dyn Fn(TokenStream) -> TokenStream,
    keep: &dyn Fn(Kept) -> bool,
) -> TokenStream {
    let ident = &frame.routine.ident;
    let impls = plan.impls.into_iter().map(|planned| {
        let Impl {
            header,
            items,
            methods,
        } = planned;
        let methods = methods.into_iter().map(|Method { sig, body: planned }| {
            let body = body(planned);
            quote!(#sig { #body })
        });
        quote!(#header { #items #(#methods)* })
    });
    let helpers = plan.helpers.into_iter().filter_map(|helper| match helper {
        Helper::Fn {
            attrs,
            sig,
            body: planned,
            kept,
        } => keep(kept).then(|| {
            let body = body(planned);
            quote!(#attrs #sig { #body })
        }),
        Helper::Const { item, kept } => keep(kept).then_some(item),
    });
    quote! {
        #(#impls)*
        impl #ident {
            #(#helpers)*
        }
    }
}

/// What a role generates beside the function.
struct Plan {
    /// Trait impls for the routine's type.
    impls: Vec<Impl>,
    /// Inherent items on the routine's type.
    helpers: Vec<Helper>,
}

/// `#header { #items #methods }`.
struct Impl {
    /// `impl Trait for name`.
    header: TokenStream,
    /// Associated types and constants, the same in stand-ins.
    items: TokenStream,
    methods: Vec<Method>,
}

/// A method: its signature and its real body.
struct Method {
    sig: TokenStream,
    body: TokenStream,
}

/// An inherent item of the routine's type.
enum Helper {
    /// A function: its attributes (docs), signature and real body.
    Fn {
        attrs: TokenStream,
        sig: TokenStream,
        body: TokenStream,
        kept: Kept,
    },
    /// A constant, emitted as is.
    Const { item: TokenStream, kept: Kept },
}

/// Whether stand-ins keep a helper.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// The user's calls of it must keep type-checking after an error.
    Always,
    /// Only with a valid routine: a raw routine of a broken routine, or a
    /// helper that exists to report another mistake.
    WithoutErrors,
}

/// Names of the generated parameters: hygienic, so a user's `const context`
/// cannot turn them into patterns; `_`-prefixed in stand-ins, whose bodies
/// do not use them.
struct Names {
    context: Ident,
    object: Ident,
    item: Ident,
    queue: Ident,
    rundown: Ident,
    parent: Ident,
    serialization: Ident,
}

impl Names {
    fn used() -> Self {
        Names::with_prefix("")
    }

    fn unused() -> Self {
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
        }
    }
}

/// What every role's plan shares: the routine, its context type in the trait
/// impls and in the helpers' signatures, and the common docs.
struct Frame<'a> {
    routine: &'a Routine,
    /// The routine's name as text, for docs.
    name: String,
    /// `type Context = ..;` under the user's type.
    assoc: TokenStream,
    /// Where obligations on the context are reported: the user's type.
    c_span: Span,
    /// `<C>` when the helpers must be generic over the context (stand-ins
    /// for an unusable type), else nothing.
    generics: TokenStream,
    /// The helpers' context parameter type.
    param_ty: TokenStream,
    /// The stand-ins' generic context parameter.
    generic_param: Ident,
}

impl<'a> Frame<'a> {
    fn new(routine: &'a Routine) -> Self {
        let context = routine.context.as_ref();
        let generic_param = Ident::new("C", Span::mixed_site());
        let (c_ty, c_span) = match context {
            Some(context) if context.usable => (context.ty.to_token_stream(), context.span),
            Some(context) => (quote!(()), context.span),
            None => (quote!(()), Span::call_site()),
        };
        // The helpers' context parameter: the user's type while it is valid
        // (even if not `Send`), else, in stand-ins, any `C`.
        let (generics, param_ty) = match context {
            Some(context) if context.in_signatures => (quote!(), context.ty.to_token_stream()),
            None => (quote!(), c_ty.clone()),
            Some(_) => (quote!(<#generic_param>), quote!(#generic_param)),
        };
        // Under the user's type, so "`Rc<..>` cannot be sent between threads
        // safely" and "does not live long enough" point at it.
        let assoc = quote_spanned! {c_span=> type Context = #c_ty; };
        Frame {
            routine,
            name: routine.ident.to_string(),
            assoc,
            c_span,
            generics,
            param_ty,
            generic_param,
        }
    }

    /// A generated function "defined" at the user's function name, so that
    /// rustc's "associated function defined here" notes point at it.
    fn at_user(&self, name: &str) -> Ident {
        Ident::new(
            name,
            Span::call_site().located_at(self.routine.ident.span()),
        )
    }

    fn has_context(&self) -> bool {
        self.routine.context.is_some()
    }

    /// `context: C,` in a helper's parameters, or nothing.
    fn ctx_param(&self, names: &Names) -> TokenStream {
        let (ctx, param_ty) = (&names.context, &self.param_ty);
        if self.has_context() {
            quote!(#ctx: #param_ty,)
        } else {
            quote!()
        }
    }

    /// The context as an argument: `context`, or `()`.
    fn ctx_arg(&self, names: &Names) -> TokenStream {
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
    fn carried(&self, items: TokenStream) -> TokenStream {
        let Routine {
            vis,
            ident,
            role,
            krate,
            ..
        } = self.routine;
        let name = &self.name;
        let assoc = &self.assoc;
        let struct_doc = format!(
            " The work item routine `{name}`: names it in generic code (`{}<{name}>`), with its `ROUTINE` trampoline and queueing helpers.",
            match role {
                Role::Ex { .. } => "ExWorkItem",
                Role::Wdf { .. } => "ntwork::wdf::WdfWorkItem",
                Role::Device | Role::DeviceEx { .. } => "IoWorkItem",
            }
        );
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
            #[doc = #struct_doc]
            #vis #struct_token #ident #braces
        }
    }
}

/// `name::routine::<T>()`: the raw-protocol routine in the pointer type `T`
/// of whichever binding the caller uses (ntwork's, wdk-sys's, windows-sys's).
fn routine_fn(frame: &Frame<'_>) -> Helper {
    let Routine { krate, vis, .. } = frame.routine;
    let t = Ident::new("__NtworkRoutineType", Span::mixed_site());
    Helper::Fn {
        attrs: quote! {
            /// The raw-protocol routine in the routine pointer type `T` of a
            /// binding: `ntwork::ffi`'s, wdk-sys's (`extern "C"` on x86_64 and
            /// aarch64) or windows-sys's; the same contract as `ROUTINE`. See
            /// `ntwork::abi`.
            #[must_use]
        },
        sig: quote!(#vis fn routine<#t: #krate::abi::RoutineType<Self>>() -> #t),
        body: quote!(<#t as #krate::abi::RoutineType<Self>>::of()),
        kept: Kept::WithoutErrors,
    }
}

/// The tokens of a path, all at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// A multi-line doc comment as one `#[doc]` per line, as `///` lines would be.
fn doc_lines(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| {
        if line.is_empty() || line.starts_with(' ') {
            line.to_owned()
        } else {
            format!(" {line}")
        }
    });
    quote!(#(#[doc = #lines])*)
}
