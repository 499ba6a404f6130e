//! Follows the responses written on one connection, so that the answers hyper writes by itself —
//! to a request it could not parse (400), whose URI (414) or header section (431) is too large —
//! can be replaced by the error envelope with a request id, like every other answer.
//!
//! hyper offers no hook for those answers, but they are recognisable: they answer no request the
//! application was given. The watch counts the requests handed to the application and reads the
//! head of each response at its first byte; a final response while no request is outstanding is
//! one of hyper's own.

use std::collections::VecDeque;

/// What the connection should do with bytes hyper wants to write.
#[derive(Debug, PartialEq, Eq)]
pub enum Write {
    /// Write at most this many of them (the rest belongs to a later response).
    Pass(usize),
    /// They begin hyper's own answer with this status: write the envelope instead.
    Replace(u16),
    /// They continue an answer already replaced: drop them.
    Drop,
}

#[derive(Debug, PartialEq, Eq)]
enum Position {
    /// The next byte begins a response.
    Boundary,
    /// This many bytes of the current response are still to come.
    Within(usize),
    /// A response of unknown length was seen: nothing is recognised any more.
    Lost,
    /// hyper's own answer is being replaced; the connection closes after it.
    Replaced,
}

#[derive(Debug)]
pub struct ResponseWatch {
    position: Position,
    /// For each request handed to the application and not yet answered: whether it was `HEAD`
    /// (its answer carries a length but no body).
    outstanding: VecDeque<bool>,
}

impl Default for ResponseWatch {
    fn default() -> Self {
        ResponseWatch {
            position: Position::Boundary,
            outstanding: VecDeque::new(),
        }
    }
}

const MAX_HEADERS: usize = 64;

impl ResponseWatch {
    /// The application was given a request (`head`: its method is HEAD).
    pub fn request_started(&mut self, head: bool) {
        self.outstanding.push_back(head);
    }

    /// Decides about `buf`, the bytes hyper writes next.
    pub fn before_write(&mut self, buf: &[u8]) -> Write {
        match self.position {
            Position::Within(left) => Write::Pass(left.min(buf.len())),
            Position::Lost => Write::Pass(buf.len()),
            Position::Replaced => Write::Drop,
            Position::Boundary => self.response_begins(buf),
        }
    }

    /// `n` bytes passed by [`Write::Pass`] were written.
    pub fn written(&mut self, n: usize) {
        if let Position::Within(left) = self.position {
            let left = left.saturating_sub(n);
            self.position = if left == 0 {
                Position::Boundary
            } else {
                Position::Within(left)
            };
        }
    }

    fn response_begins(&mut self, buf: &[u8]) -> Write {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut head = httparse::Response::new(&mut headers);
        let head_len = match head.parse(buf) {
            Ok(httparse::Status::Complete(n)) => n,
            // hyper writes a response head in one piece; anything else is not followed.
            _ => {
                self.position = Position::Lost;
                return Write::Pass(buf.len());
            }
        };
        let status = head.code.unwrap_or(0);
        if (100..200).contains(&status) {
            self.position = Position::Within(head_len);
            return Write::Pass(head_len.min(buf.len()));
        }
        let Some(was_head) = self.outstanding.pop_front() else {
            self.position = Position::Replaced;
            return Write::Replace(status);
        };
        let body_len = if was_head || status == 204 || status == 304 {
            Some(0)
        } else if head
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("transfer-encoding"))
        {
            None
        } else {
            head.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok())
                .and_then(|v| v.trim().parse::<usize>().ok())
        };
        match body_len {
            Some(body) => {
                let total = head_len + body;
                self.position = Position::Within(total);
                Write::Pass(total.min(buf.len()))
            }
            None => {
                self.position = Position::Lost;
                Write::Pass(buf.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-request-id: abc\r\n\r\nhello";
    const HYPERS: &[u8] =
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";

    /// Writes `bytes` as hyper would, offering all that is left each time, while the socket takes
    /// at most `accepts` bytes per write; returns what passed and the statuses replaced.
    fn feed(w: &mut ResponseWatch, bytes: &[u8], accepts: usize) -> (Vec<u8>, Vec<u16>) {
        let (mut passed, mut replaced) = (Vec::new(), Vec::new());
        let mut pos = 0;
        while pos < bytes.len() {
            match w.before_write(&bytes[pos..]) {
                Write::Pass(n) => {
                    let n = n.min(accepts);
                    passed.extend_from_slice(&bytes[pos..pos + n]);
                    w.written(n);
                    pos += n;
                }
                Write::Replace(status) => {
                    replaced.push(status);
                    pos = bytes.len();
                }
                Write::Drop => pos = bytes.len(),
            }
        }
        (passed, replaced)
    }

    #[test]
    fn answers_to_requests_pass_and_hypers_own_answer_is_replaced() {
        for accepts in [1, 7, 40, 1000] {
            let mut w = ResponseWatch::default();
            w.request_started(false);
            w.request_started(false);
            let stream = [OURS, OURS, HYPERS].concat();
            let (passed, replaced) = feed(&mut w, &stream, accepts);
            assert_eq!(passed, [OURS, OURS].concat(), "socket takes {accepts}");
            assert_eq!(replaced, vec![431], "socket takes {accepts}");
        }
    }

    #[test]
    fn a_response_and_the_next_in_one_write_are_split_at_their_boundary() {
        let mut w = ResponseWatch::default();
        w.request_started(false);
        let stream = [OURS, HYPERS].concat();
        assert_eq!(w.before_write(&stream), Write::Pass(OURS.len()));
        w.written(OURS.len());
        assert_eq!(w.before_write(HYPERS), Write::Replace(431));
        assert_eq!(w.before_write(b"anything"), Write::Drop);
    }

    #[test]
    fn a_first_request_that_cannot_be_parsed_is_replaced() {
        let mut w = ResponseWatch::default();
        let bad = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(w.before_write(bad), Write::Replace(400));
    }

    #[test]
    fn interim_and_bodiless_answers_keep_the_count() {
        let mut w = ResponseWatch::default();
        w.request_started(true);
        w.request_started(false);
        let cont = b"HTTP/1.1 100 Continue\r\n\r\n";
        let head_answer = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n";
        let no_content = b"HTTP/1.1 204 No Content\r\n\r\n";
        let stream = [&cont[..], &head_answer[..], &no_content[..], HYPERS].concat();
        let (passed, replaced) = feed(&mut w, &stream, 1000);
        assert_eq!(
            passed,
            [&cont[..], &head_answer[..], &no_content[..]].concat()
        );
        assert_eq!(replaced, vec![431]);
    }

    #[test]
    fn a_response_of_unknown_length_stops_the_watch_safely() {
        let mut w = ResponseWatch::default();
        w.request_started(false);
        let chunked =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        let stream = [&chunked[..], HYPERS].concat();
        let (passed, replaced) = feed(&mut w, &stream, 1000);
        assert_eq!(passed, stream);
        assert!(replaced.is_empty());
    }
}
