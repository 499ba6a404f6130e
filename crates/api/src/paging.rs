//! Keyset paging of list operations: reads `limit` and `marker`, and builds `page_info`.

use crate::extract::QueryParams;
use iic_domain::marker::{parse_limit, MarkerCodec};
use iic_domain::ApiError;
use serde::Serialize;

pub use iic_domain::page::Page;

/// The page a listing asks for: `limit` 1..=`max` (default `max`), `marker` issued by this
/// listing (`scope`).
pub fn page(
    q: &QueryParams,
    markers: &MarkerCodec,
    scope: &str,
    max: i64,
) -> Result<Page, ApiError> {
    page_with_default(q, markers, scope, max, max)
}

/// Like [`page`] with a default page size below the maximum.
pub fn page_with_default(
    q: &QueryParams,
    markers: &MarkerCodec,
    scope: &str,
    max: i64,
    default: i64,
) -> Result<Page, ApiError> {
    let limit = parse_limit(q.int("limit")?, max, default)?;
    let after = q
        .get("marker")
        .map(|m| markers.decode(scope, m))
        .transpose()?;
    Ok(Page { after, limit })
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct PageInfo {
    pub next_marker: Option<String>,
    pub current_count: usize,
}

/// Cuts `rows` (fetched for [`Page::lookahead`]) to the page and builds its `page_info`.
pub fn finish<T>(
    mut rows: Vec<T>,
    page: Page,
    markers: &MarkerCodec,
    scope: &str,
    seq: impl Fn(&T) -> i64,
) -> (Vec<T>, PageInfo) {
    let more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit as usize);
    let next_marker = if more {
        rows.last().map(|r| markers.encode(scope, seq(r)))
    } else {
        None
    };
    let info = PageInfo {
        next_marker,
        current_count: rows.len(),
    };
    (rows, info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_only_when_more_rows_follow() {
        let codec = MarkerCodec::new([1; 32]);
        let page = Page::first(2);
        let (rows, info) = finish(vec![1i64, 2, 3], page, &codec, "s", |r| *r);
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(info.current_count, 2);
        let m = info.next_marker.expect("more rows");
        assert_eq!(codec.decode("s", &m), Ok(2));
        let (rows, info) = finish(vec![1i64, 2], page, &codec, "s", |r| *r);
        assert_eq!(rows.len(), 2);
        assert_eq!(info.next_marker, None);
    }
}
