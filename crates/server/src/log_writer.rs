//! The log sink: lines are gathered in memory and written to stderr in batches — every 100 ms, when
//! 64 KiB have gathered, and at exit — so a request costs no system call and no thread wake-up for
//! its access-log line. A crash loses at most the last 100 ms of lines.

use parking_lot::Mutex;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const FLUSH_BYTES: usize = 64 * 1024;
const FLUSH_EVERY: Duration = Duration::from_millis(100);

#[derive(Clone, Default)]
pub struct BatchedStderr {
    buf: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
}

impl BatchedStderr {
    /// Starts the periodic flusher; the returned guard flushes the rest when dropped.
    pub fn start() -> (BatchedStderr, FlushGuard) {
        let sink = BatchedStderr::default();
        let flusher = sink.clone();
        let thread = std::thread::Builder::new()
            .name("iic-log".into())
            .spawn(move || {
                while !flusher.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(FLUSH_EVERY);
                    flusher.write_out();
                }
            })
            .ok();
        (sink.clone(), FlushGuard { sink, thread })
    }

    /// Adds bytes to the batch; writes the batch out once it is large.
    pub fn append(&self, data: &[u8]) {
        let full = {
            let mut buf = self.buf.lock();
            buf.extend_from_slice(data);
            buf.len() >= FLUSH_BYTES
        };
        if full {
            self.write_out();
        }
    }

    #[cfg(test)]
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.buf.lock())
    }

    pub fn write_out(&self) {
        let pending = std::mem::take(&mut *self.buf.lock());
        if !pending.is_empty() {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&pending);
            let _ = err.flush();
        }
    }
}

pub struct FlushGuard {
    sink: BatchedStderr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.sink.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.sink.write_out();
    }
}

impl Write for BatchedStderr {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.append(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.write_out();
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStderr {
    type Writer = BatchedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_gather_until_flushed() {
        let mut sink = BatchedStderr::default();
        sink.write_all(b"one\n").expect("write");
        sink.write_all(b"two\n").expect("write");
        assert_eq!(&*sink.buf.lock(), b"one\ntwo\n");
        sink.write_out();
        assert!(sink.buf.lock().is_empty());
    }

    #[test]
    fn a_large_batch_is_written_at_once() {
        let mut sink = BatchedStderr::default();
        sink.write_all(&vec![b'x'; FLUSH_BYTES]).expect("write");
        assert!(sink.buf.lock().is_empty());
    }
}
