//! One page of a keyset-paged listing, as the API asks for it and the store reads it.

/// Rows after the sequence number `after` (from the start when `None`), at most `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub after: Option<i64>,
    pub limit: i64,
}

impl Page {
    pub fn first(limit: i64) -> Page {
        Page { after: None, limit }
    }

    pub fn after(seq: i64, limit: i64) -> Page {
        Page {
            after: Some(seq),
            limit,
        }
    }

    /// The same page with one row more, so that the caller learns whether another page follows.
    pub fn lookahead(self) -> Page {
        Page {
            limit: self.limit.saturating_add(1),
            ..self
        }
    }

    /// The keyset bound: sequence numbers start at 1.
    pub fn after_seq(self) -> i64 {
        self.after.unwrap_or(0)
    }

    /// The limit as a row count; a negative limit reads nothing.
    pub fn rows(self) -> usize {
        usize::try_from(self.limit).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookahead_reads_one_more_row_from_the_same_place() {
        assert_eq!(Page::after(7, 10).lookahead(), Page::after(7, 11));
        assert_eq!(Page::first(3).after_seq(), 0);
        assert_eq!(Page::first(-1).rows(), 0);
    }
}
