//! Field validation shared by the wire APIs. Every failure names the field.

use crate::ApiError;

pub fn length(field: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(ApiError::bad_request(format!(
            "{field} must be between {min} and {max} characters long"
        )));
    }
    Ok(())
}

/// `^[a-zA-Z0-9-]{1,64}$`, the shape of region ids and instance ids in paths.
pub fn simple_id(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    length(field, value, 1, max)?;
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiError::bad_request(format!(
            "{field} may contain only letters, digits and hyphens"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_and_names_the_field() {
        assert!(length("name", "ë", 1, 1).is_ok());
        let e = length("name", "", 1, 3).expect_err("too short");
        assert!(e.message.contains("name"));
        assert!(length("name", "abcd", 1, 3).is_err());
    }

    #[test]
    fn simple_id_shape() {
        assert!(simple_id("region_id", "cn-north-4", 64).is_ok());
        assert!(simple_id("region_id", "cn_north", 64).is_err());
        assert!(simple_id("region_id", &"a".repeat(65), 64).is_err());
    }
}
