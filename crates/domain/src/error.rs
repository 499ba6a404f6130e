//! The one error type of the wire APIs: every failure maps to an HTTP status, an error code of the
//! catalogued table and a message. Handlers never build error bodies by hand.

use std::fmt;

/// Why an authorization check refused a caller; the API layer seals it into
/// `encoded_authorization_message` together with who asked for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The IAM action that was asked for, e.g. `IdentityCenter:instance:list`. Empty when a
    /// caller check refused: the envelope seals the action the table of actions gives the
    /// operation that answered.
    pub action: String,
    /// Plain-language reason, for the operator who decodes the message.
    pub reason: String,
    /// When policies decided: what they were asked and what they answered.
    pub policy: Option<crate::authz::PolicyStory>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub denial: Option<Box<Denial>>,
}

/// Message of `IIC.1215`, as the service prints it.
pub const NOT_ADMIN_MESSAGE: &str =
    "only organizations administrator account can operate,please log in to the administrator account!";

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            denial: None,
        }
    }

    /// 400 `IIC.400`: `detail` names the offending field and what is wrong with it.
    pub fn bad_request(detail: impl fmt::Display) -> Self {
        Self::new(400, "IIC.400", format!("Bad Request: {detail}."))
    }

    /// 404 `IIC.404`: `detail` names what was not found.
    pub fn not_found(detail: impl fmt::Display) -> Self {
        Self::new(404, "IIC.404", format!("Not Found: {detail}."))
    }

    /// 409 `IIC.1006`: a concurrent change won; the caller may retry.
    pub fn concurrency_conflict() -> Self {
        Self::new(409, "IIC.1006", "Concurrency conflicts. Try again later.")
    }

    /// 409 with a catalogued conflict code and message.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }

    /// 403 `IIC.1215`: the caller is neither the management account nor a delegated administrator.
    /// The denial names no action: the envelope takes it from the operation.
    pub fn not_admin(reason: impl Into<String>) -> Self {
        ApiError {
            status: 403,
            code: "IIC.1215",
            message: NOT_ADMIN_MESSAGE.to_string(),
            denial: Some(Box::new(Denial {
                action: String::new(),
                reason: reason.into(),
                policy: None,
            })),
        }
    }

    /// 401 `APIGW.0301`: the request's authentication failed; `detail` says how.
    pub fn unauthenticated(detail: impl fmt::Display) -> Self {
        Self::new(
            401,
            "APIGW.0301",
            format!("Incorrect IAM authentication information: {detail}"),
        )
    }

    /// 404 `APIGW.0101`: no API at this path.
    pub fn no_such_api() -> Self {
        Self::new(
            404,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment.",
        )
    }

    /// 405 `APIGW.0101`: the path exists, the method does not.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "APIGW.0101",
            format!("The API does not exist: method {method} is not allowed on this path."),
        )
    }

    /// 413 `APIGW.0201`: the body is larger than the gateway accepts.
    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::new(
            413,
            "APIGW.0201",
            format!("Request entity too large: the body may be at most {limit_bytes} bytes."),
        )
    }

    /// 400 `APIGW.0201`: the request is not well-formed HTTP, or its body cannot be read.
    pub fn malformed_request(detail: impl fmt::Display) -> Self {
        Self::new(400, "APIGW.0201", format!("API request error: {detail}."))
    }

    /// 408 `APIGW.0201`: the body stopped arriving.
    pub fn body_timeout(idle_secs: u64) -> Self {
        Self::new(
            408,
            "APIGW.0201",
            format!("Request timeout: no part of the request body arrived for {idle_secs} s."),
        )
    }

    /// 414 `APIGW.0201`: the request line is longer than the server reads.
    pub fn uri_too_long() -> Self {
        Self::new(414, "APIGW.0201", "Request URI too large.")
    }

    /// 431 `APIGW.0201`: the header section is larger than the server reads.
    pub fn headers_too_large() -> Self {
        Self::new(
            431,
            "APIGW.0201",
            "Request header fields too large: too many headers, or too long.",
        )
    }

    /// 429 `APIGW.0308`: the server sheds load; the client should retry later.
    pub fn server_busy(detail: impl fmt::Display) -> Self {
        Self::new(
            429,
            "APIGW.0308",
            format!("The throttling threshold has been reached: {detail}; retry later."),
        )
    }

    /// 500 `IIC.500`: something failed inside the server. The detail is logged, never sent.
    pub fn internal() -> Self {
        Self::new(500, "IIC.500", "Internal Server Error.")
    }

    /// 403 `IIC.1000`: the policies of the caller's agency do not allow `action`.
    pub fn no_permission(action: &str, story: crate::authz::PolicyStory) -> Self {
        ApiError::new(
            403,
            "IIC.1000",
            format!("No permission for action {action}."),
        )
        .with_policy_denial(action, story)
    }

    /// 403 `IIC.1001`: `action` depends on `dependency`, which the policies do not allow.
    pub fn dependency_denied(
        action: &str,
        dependency: &str,
        story: crate::authz::PolicyStory,
    ) -> Self {
        ApiError::new(
            403,
            "IIC.1001",
            format!("Access denied: {action} depends on {dependency}, which is not allowed."),
        )
        .with_policy_denial(dependency, story)
    }

    /// Attaches the story of a policy decision to be sealed into the denial's message.
    pub fn with_policy_denial(mut self, action: &str, story: crate::authz::PolicyStory) -> Self {
        self.denial = Some(Box::new(Denial {
            action: action.to_string(),
            reason: story.decision.clone(),
            policy: Some(story),
        }));
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_request_names_the_detail_in_the_catalogued_template() {
        let e = ApiError::bad_request("limit must be between 1 and 100");
        assert_eq!(e.status, 400);
        assert_eq!(e.code, "IIC.400");
        assert_eq!(e.message, "Bad Request: limit must be between 1 and 100.");
    }

    #[test]
    fn not_found_uses_iic_404() {
        let e = ApiError::not_found("instance ins-0000000000000000");
        assert_eq!((e.status, e.code), (404, "IIC.404"));
        assert_eq!(e.message, "Not Found: instance ins-0000000000000000.");
    }

    #[test]
    fn not_admin_carries_its_denial() {
        let e = ApiError::not_admin("member account");
        assert_eq!((e.status, e.code), (403, "IIC.1215"));
        assert_eq!(e.message, NOT_ADMIN_MESSAGE);
        let d = e.denial.expect("denial");
        assert_eq!(d.reason, "member account");
        assert!(d.action.is_empty(), "the envelope names the action");
    }

    #[test]
    fn gateway_errors_use_apigw_codes() {
        assert_eq!(ApiError::unauthenticated("x").code, "APIGW.0301");
        assert_eq!(ApiError::unauthenticated("x").status, 401);
        assert_eq!(ApiError::no_such_api().status, 404);
        assert_eq!(ApiError::method_not_allowed("PUT").status, 405);
        assert_eq!(ApiError::payload_too_large(10).status, 413);
        assert_eq!(ApiError::internal().status, 500);
    }
}
