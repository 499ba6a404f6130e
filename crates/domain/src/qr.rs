//! QR codes drawn by the server, as SVG in a `data:` URI that a page can show in an `<img>`
//! (the pages' CSP allows `img-src data:`): no external service sees what they encode.

use base64::Engine;
use qrcode::render::svg;
use qrcode::QrCode;

/// Pixels of the smallest side the image is drawn at.
const MIN_SIDE: u32 = 200;

/// The QR code of `text` as a `data:image/svg+xml;base64,…` URI; None when `text` is too long
/// for a QR code.
pub fn svg_data_uri(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(MIN_SIDE, MIN_SIDE)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn a_uri_becomes_an_svg_image() {
        let uri = svg_data_uri("otpauth://totp/iic:alice?secret=MZXW6YTBOI").expect("fits");
        let encoded = uri
            .strip_prefix("data:image/svg+xml;base64,")
            .expect("prefix");
        let svg = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        let svg = String::from_utf8(svg).expect("utf-8");
        assert!(svg.contains("<svg"), "{svg}");
    }

    #[test]
    fn text_too_long_for_a_qr_code_has_none() {
        assert_eq!(svg_data_uri(&"x".repeat(10_000)), None);
    }
}
