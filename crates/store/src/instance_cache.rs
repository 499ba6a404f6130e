//! A read-through cache of each organization's instances (SQLite only, see [`crate::Store`]).

use iic_domain::instance::Instance;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A generation counter makes sure that a load racing a write never stores what the write
/// replaced.
#[derive(Default)]
pub(crate) struct InstanceCache {
    map: RwLock<HashMap<String, Arc<Vec<Instance>>>>,
    generation: AtomicU64,
}

impl InstanceCache {
    pub(crate) fn get(&self, organization_id: &str) -> Option<Arc<Vec<Instance>>> {
        self.map.read().get(organization_id).cloned()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores a loaded list unless a write happened since `generation` was read.
    pub(crate) fn put(&self, organization_id: &str, generation: u64, list: Arc<Vec<Instance>>) {
        let mut map = self.map.write();
        if self.generation.load(Ordering::Acquire) == generation {
            map.insert(organization_id.to_string(), list);
        }
    }

    pub(crate) fn invalidate(&self) {
        let mut map = self.map.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.clear();
    }
}
