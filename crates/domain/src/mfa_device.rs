//! What holds for an MFA device whichever way it is named: by an administrator through the
//! identity store API, or by its user in the portal.

use crate::{validate, ApiError};

/// The longest display name of a device.
pub const MAX_DISPLAY_NAME: usize = 1024;

/// A display name is 1 to [`MAX_DISPLAY_NAME`] characters, none of them a control character
/// but tab and line breaks.
pub fn validate_display_name(name: &str) -> Result<(), ApiError> {
    validate::length("display_name", name, 1, MAX_DISPLAY_NAME)?;
    if name
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(ApiError::bad_request(
            "display_name may not contain control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_bounded_and_printable() {
        assert!(validate_display_name("my mfa\tphone").is_ok());
        for bad in [
            String::new(),
            "x".repeat(MAX_DISPLAY_NAME + 1),
            "a\u{7}".into(),
        ] {
            let e = validate_display_name(&bad).expect_err("refused");
            assert!(e.message.contains("display_name"), "{}", e.message);
        }
    }
}
