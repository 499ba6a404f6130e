//! Reading a SCIM request body.

use crate::envelope::RawBody;
use iic_domain::scim::ScimError;
use serde_json::Value;

/// The body as one JSON object; anything else is `invalidSyntax`.
pub fn json(raw: &RawBody) -> Result<Value, ScimError> {
    if raw.0.is_empty() {
        return Err(ScimError::invalid_syntax("the request has no body"));
    }
    let value: Value = serde_json::from_slice(&raw.0)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ScimError::invalid_syntax("the body is not a JSON object"));
    }
    Ok(value)
}
