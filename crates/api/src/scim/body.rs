//! Reading a SCIM request body.

use crate::envelope::RawBody;
use iic_domain::scim::ScimError;
use serde_json::Value;

/// The body as one JSON object, read by the rules every API shares (nothing after it, no
/// control character in any string, the refusal naming where); anything else is
/// `invalidSyntax`, a control character `invalidValue`.
pub fn json(raw: &RawBody) -> Result<Value, ScimError> {
    crate::extract::parse_json::<Value>(&raw.0).map_err(|e| {
        let detail = super::reply::detail(&e);
        match detail.contains("control character") {
            true => ScimError::invalid_value(detail),
            false => ScimError::invalid_syntax(detail),
        }
    })
}
