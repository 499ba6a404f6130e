//! The OIDC device flow (RFC 8628) and its tokens, without I/O: the shapes of the codes and
//! secrets handed out, how they are hashed for storage, and the state machine a device grant
//! follows when a client polls for its token.

pub mod codes;
pub mod fields;
pub mod grant;
pub mod pkce;

pub use codes::{hash_secret, new_client_id, new_secret, new_user_code, normalize_user_code};
pub use codes::{secret_matches, show_user_code};
pub use grant::{client_may_use, poll, DeviceState, GrantView, OAuthError, PollStep};

/// The grant type of the device flow.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The grant type of the authorization-code flow (its token side needs the sign-in pages).
pub const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";
/// The refresh grant: not in the catalogue's enum, but described by its prose and needed for the
/// `refresh_token` field of CreateToken to mean anything.
pub const REFRESH_TOKEN_GRANT: &str = "refresh_token";
/// `token_type` of every issued token, as the catalogue words it.
pub const TOKEN_TYPE: &str = "BearerToken";
/// How much a `slow_down` adds to a grant's polling interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP_SECS: i64 = 5;
