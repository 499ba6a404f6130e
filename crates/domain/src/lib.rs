//! The domain layer of iic: plain types and functions with no I/O.

pub mod access_control;
pub mod agency_policy;
pub mod assignment;
pub mod authz;
pub mod clock;
pub mod crypto;
pub mod directory;
pub mod error;
pub mod ids;
pub mod instance;
pub mod job;
pub mod mail_body;
pub mod mailed_secret;
pub mod marker;
pub mod mfa_device;
pub mod names;
pub mod oidc;
pub mod organizations;
pub mod page;
pub mod permission_set;
pub mod policy;
pub mod policy_eval;
pub mod portal;
pub mod qr;
pub mod retry;
pub mod scim;
pub mod session;
pub mod sign_in;
pub mod signing;
pub mod sso_configuration;
pub mod text;
pub mod totp;
pub mod validate;

pub use error::ApiError;
