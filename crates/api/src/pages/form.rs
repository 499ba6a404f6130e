//! A submitted form: an `application/x-www-form-urlencoded` body of bounded size.

use axum::body::Body;
use std::collections::HashMap;

/// Forms of the portal are a few short fields; anything larger is refused unread.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

pub struct Form(HashMap<String, String>);

impl Form {
    /// Reads and parses the body; None when it is too large or not a form.
    pub async fn read(body: Body) -> Option<Form> {
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.ok()?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).ok()?;
        Some(Form(pairs.into_iter().collect()))
    }

    /// Every field, as submitted.
    pub fn fields(&self) -> &HashMap<String, String> {
        &self.0
    }

    /// The field's value, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}
