//! The open-files limit: raised to its hard ceiling at start, so that the connection cap, not the
//! process limit, decides how many clients are served; the cap's default keeps a reserve of
//! descriptors for the database, the log and the listener.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors kept free of connections: database pool, SQLite files, log, listener, workers.
const RESERVE: usize = 64;
/// The default connection cap where the file limit allows more.
const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Raises the soft limit on open files to the hard limit; returns the soft limit in force after.
pub fn raise() -> Option<usize> {
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    if limit.current != limit.maximum {
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(error = %e, soft = ?limit.current, hard = ?limit.maximum, "could not raise the open-files limit");
        }
    }
    getrlimit(Resource::Nofile)
        .current
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// 1024, or the file limit less the reserve when that is lower (at least 1).
pub fn default_max_connections(files: Option<usize>) -> usize {
    match files {
        Some(n) => DEFAULT_MAX_CONNECTIONS
            .min(n.saturating_sub(RESERVE))
            .max(1),
        None => DEFAULT_MAX_CONNECTIONS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_keeps_a_reserve_of_descriptors() {
        assert_eq!(default_max_connections(Some(1_048_576)), 1024);
        assert_eq!(default_max_connections(Some(1024)), 960);
        assert_eq!(default_max_connections(Some(10)), 1);
        assert_eq!(default_max_connections(None), 1024);
    }

    #[test]
    fn raising_reaches_the_hard_limit() {
        let files = raise();
        assert_eq!(
            files.map(|n| n as u64),
            getrlimit(Resource::Nofile).maximum,
            "soft limit equals the hard limit after raise()"
        );
    }
}
