//! The server-rendered sign-in pages and the user portal of each instance, under
//! `<public url>/<identity store id or alias>/portal`.

/// The user portal of the instance named `key` (its identity store id or alias).
pub fn portal_url(public_url: &str, key: &str) -> String {
    format!("{public_url}/{key}/portal")
}

/// The device verification page of the instance named `key`.
pub fn device_url(public_url: &str, key: &str) -> String {
    format!("{}/device", portal_url(public_url, key))
}
