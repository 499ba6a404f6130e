//! SCIM 2.0 (RFC 7643, RFC 7644) as the domain layer sees it: the filter language, matching a
//! filter against a resource, recognising the filters an index answers, PATCH paths and request
//! bodies, applying a PATCH (to a resource, or as a plan of group changes), projecting attributes,
//! and the SCIM error body. No I/O; the store and the API layer build on these.

pub mod apply;
mod apply_filter;
mod apply_value;
pub mod error;
pub mod filter;
mod filter_lex;
pub mod filter_parse;
pub mod group_patch;
pub mod index;
pub mod matching;
pub mod patch;
pub mod patch_path;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;

#[cfg(test)]
mod prop_tests;

pub use apply::apply_patch;
pub use error::{ScimError, ScimType};
pub use filter::{CompValue, CompareOp, Filter};
pub use filter_parse::{parse_filter, MAX_DEPTH, MAX_FILTER_LEN, MAX_TERMS};
pub use group_patch::{plan_group_patch, GroupPatch, MemberChange};
pub use index::{classify, IndexKey, Lookup, Plan};
pub use matching::{matches, matches_element};
pub use patch::{parse_patch, parse_patch_json, OpKind, PatchOperation, PatchRequest, Target};
pub use patch_path::{parse_patch_path, PatchPath};
pub use path::AttrPath;
pub use projection::{parse_attribute_list, project};
pub use schema::{AttrRules, ResourceType};
