//! Every operation, one module per area. Documents live in
//! `src/documents/*.graphql`, byte-exact copies of what wandb 0.31 sends
//! (checked against `spec/operations/wire-texts.json` by the tests).

pub mod agents;
pub mod artifacts;
pub mod identity;
pub mod items;
pub mod liftoff;
pub mod queues;
pub mod runs;
pub mod web;

/// Liftoff's own documents and the W&B ones, by file stem.
macro_rules! document {
    ($stem:literal) => {
        include_str!(concat!("../documents/", $stem, ".graphql"))
    };
}
pub(crate) use document;

/// Implement `Operation` for a struct with a fixed document.
macro_rules! operation {
    ($ty:ty, $name:literal, $stem:literal, typed = $typed:literal, output = $out:ty,
     vars($self_v:ident) $vars:block, decode($self_d:ident, $data:ident) $decode:block) => {
        impl $crate::graphql::Operation for $ty {
            type Output = $out;
            const NAME: &'static str = $name;
            const TYPED: bool = $typed;
            fn document(&self) -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($crate::ops::document!($stem))
            }
            #[allow(unused_variables)]
            fn variables(&$self_v) -> Option<serde_json::Value> $vars
            #[allow(unused_variables)]
            fn decode(&$self_d, $data: serde_json::Value) -> Result<$out, $crate::error::Error> $decode
        }
    };
}
pub(crate) use operation;
