//! The agency a temporary credential acts under, as policy evaluation reads it: its compiled
//! policies and the condition values fixed for the credential's life. Built when the credential
//! is resolved, kept with it in the caller cache; compiled policies are shared by every
//! credential of the same permission-set version.

use iic_domain::agency_policy::AgencyPolicies;
use iic_domain::permission_set::Catalog;
use iic_domain::policy_eval::Decision;
use iic_store::AgencyRecord;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// What the policies of one temporary credential see of it.
#[derive(Debug)]
pub struct Agency {
    pub policies: Arc<AgencyPolicies>,
    pub permission_set_id: String,
    pub user_id: String,
    /// `g:UserId`, `g:UserName`, `g:DomainName`, `g:MFAPresent`, `g:PrincipalTag/<key>`.
    pub context: Vec<(String, Vec<String>)>,
    /// Decisions of the current second on requests that bring no values of their own.
    pub decisions: DecisionCache,
}

/// The decisions taken in one second, from one source address, per action, on requests that
/// name no resource and carry no tags: their evaluation reads nothing else that changes (the
/// agency's own values are fixed, `g:CurrentTime` has a resolution of one second), so within
/// that second the same action gets the same decision.
#[derive(Debug, Default)]
pub struct DecisionCache(RwLock<Decided>);

#[derive(Debug, Default)]
struct Decided {
    second: i64,
    source_ip: Option<IpAddr>,
    by_action: Vec<(&'static str, Decision)>,
}

/// Actions remembered per second; a credential rarely uses more.
const MAX_DECIDED: usize = 64;

impl DecisionCache {
    pub fn get(&self, second: i64, source_ip: Option<IpAddr>, action: &str) -> Option<Decision> {
        let d = self.0.read();
        if d.second != second || d.source_ip != source_ip {
            return None;
        }
        d.by_action
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, decision)| *decision)
    }

    pub fn put(
        &self,
        second: i64,
        source_ip: Option<IpAddr>,
        action: &'static str,
        decision: Decision,
    ) {
        let mut d = self.0.write();
        if d.second != second || d.source_ip != source_ip {
            d.second = second;
            d.source_ip = source_ip;
            d.by_action.clear();
        }
        if d.by_action.len() < MAX_DECIDED && !d.by_action.iter().any(|(a, _)| *a == action) {
            d.by_action.push((action, decision));
        }
    }
}

impl Agency {
    /// A temporary credential without a readable agency (its record is gone): it acts under no
    /// policies, so it may do nothing.
    pub fn none() -> Agency {
        Agency {
            policies: Arc::new(AgencyPolicies::default()),
            permission_set_id: String::new(),
            user_id: String::new(),
            context: Vec::new(),
            decisions: DecisionCache::default(),
        }
    }
}

const MAX_COMPILED: usize = 10_000;

/// Compiled policies by permission set and provisioned version (a version's snapshot never
/// changes, so an entry never goes stale).
#[derive(Default)]
pub struct CompiledPolicies {
    sets: RwLock<HashMap<(String, i64), Arc<AgencyPolicies>>>,
}

impl CompiledPolicies {
    fn get(
        &self,
        set: &str,
        version: i64,
        snapshot: &str,
        catalog: &Catalog,
    ) -> Arc<AgencyPolicies> {
        let key = (set.to_string(), version);
        if let Some(hit) = self.sets.read().get(&key) {
            return Arc::clone(hit);
        }
        let (policies, problems) = AgencyPolicies::compile(snapshot, catalog);
        for problem in &problems {
            tracing::warn!(permission_set_id = set, version, "{problem}");
        }
        let policies = Arc::new(policies);
        let mut sets = self.sets.write();
        if sets.len() >= MAX_COMPILED {
            sets.clear();
        }
        sets.insert(key, Arc::clone(&policies));
        policies
    }

    /// The agency of a credential held by `record`'s user, acting as the account `domain_name`.
    pub fn agency(&self, record: AgencyRecord, domain_name: &str, catalog: &Catalog) -> Agency {
        let policies = match &record.provisioned {
            Some((version, snapshot)) => {
                self.get(&record.permission_set_id, *version, snapshot, catalog)
            }
            None => Arc::new(AgencyPolicies::default()),
        };
        let mut context = vec![
            ("g:UserId".to_string(), vec![record.user_id.clone()]),
            ("g:DomainName".to_string(), vec![domain_name.to_string()]),
            (
                "g:MFAPresent".to_string(),
                vec![record.mfa_present.to_string()],
            ),
        ];
        if let Some(name) = &record.user_name {
            context.push(("g:UserName".to_string(), vec![name.clone()]));
        }
        context.extend(
            record
                .principal_tags
                .iter()
                .map(|(k, v)| (format!("g:PrincipalTag/{k}"), vec![v.clone()])),
        );
        Agency {
            policies,
            permission_set_id: record.permission_set_id,
            user_id: record.user_id,
            context,
            decisions: DecisionCache::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_last_one_second_from_one_address() {
        let cache = DecisionCache::default();
        let ip: Option<IpAddr> = "127.0.0.1".parse().ok();
        let allowed = Decision::Allowed {
            policy: 0,
            statement: 1,
        };
        assert_eq!(cache.get(10, ip, "a:b:c"), None);
        cache.put(10, ip, "a:b:c", allowed);
        cache.put(10, ip, "a:b:d", Decision::NotAllowed);
        assert_eq!(cache.get(10, ip, "a:b:c"), Some(allowed));
        assert_eq!(cache.get(10, ip, "a:b:d"), Some(Decision::NotAllowed));
        assert_eq!(cache.get(11, ip, "a:b:c"), None, "another second");
        assert_eq!(cache.get(10, None, "a:b:c"), None, "another address");
        cache.put(11, ip, "a:b:d", allowed);
        assert_eq!(cache.get(11, ip, "a:b:d"), Some(allowed));
        assert_eq!(
            cache.get(10, ip, "a:b:c"),
            None,
            "the past second is forgotten"
        );
    }
}
