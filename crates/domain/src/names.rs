//! Enums that are stored and shown as one of a fixed set of names (an account status, a request
//! kind…): the name of each value is written once, in [`Named::name`].

use crate::ApiError;

pub trait Named: Sized + Copy + PartialEq + 'static {
    /// What a value is, for messages: "account status".
    const WHAT: &'static str;
    /// Every value.
    const ALL: &'static [Self];

    /// The name, as stored and as shown on the wire.
    fn name(self) -> &'static str;

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// Reads a field that must hold one of the names of `T`; the error names the field and every
/// name it may hold, e.g. "principal_type must be USER or GROUP".
pub fn parse<T: Named>(field: &str, value: &str) -> Result<T, ApiError> {
    T::from_name(value)
        .ok_or_else(|| ApiError::bad_request(format!("{field} must be {}", one_of::<T>())))
}

/// "A, B or C".
pub fn one_of<T: Named>() -> String {
    let names: Vec<&str> = T::ALL.iter().map(|v| v.name()).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
pub(crate) fn assert_names_round_trip<T: Named + std::fmt::Debug>() {
    for v in T::ALL {
        assert_eq!(T::from_name(v.name()), Some(*v), "{}", T::WHAT);
    }
    let mut names: Vec<&str> = T::ALL.iter().map(|v| v.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), T::ALL.len(), "{} names repeat", T::WHAT);
    assert_eq!(T::from_name("no such name"), None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assignment::{PrincipalType, RequestStatus};

    #[test]
    fn a_bad_name_is_refused_naming_the_field_and_every_name() {
        assert_eq!(
            parse::<PrincipalType>("principal_type", "USER"),
            Ok(PrincipalType::User)
        );
        assert_eq!(
            parse::<PrincipalType>("accessor_type", "user").map_err(|e| e.message),
            Err("Bad Request: accessor_type must be USER or GROUP.".to_string())
        );
        assert_eq!(
            one_of::<RequestStatus>(),
            "IN_PROGRESS, SUCCEEDED or FAILED"
        );
    }
}
