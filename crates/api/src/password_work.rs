//! Argon2id work (hashing and verifying passwords) off the async workers, at most one per CPU at
//! a time. Each hash holds 19 MiB for tens of milliseconds: unbounded, a burst of sign-ins would
//! spend memory and thrash the CPUs for fewer sign-ins per second, not more.

use tokio::sync::Semaphore;

pub struct PasswordWork {
    permits: Semaphore,
}

impl Default for PasswordWork {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        PasswordWork {
            permits: Semaphore::new(cpus),
        }
    }
}

impl PasswordWork {
    /// Runs `work` on the blocking pool once a CPU's share is free; None if it could not run.
    pub async fn run<T, F>(&self, work: F) -> Option<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self.permits.acquire().await.ok()?;
        tokio::task::spawn_blocking(work).await.ok()
    }
}
