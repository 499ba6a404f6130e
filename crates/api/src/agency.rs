//! The agency a temporary credential acts under, as policy evaluation reads it: its compiled
//! policies and the condition values fixed for the credential's life. Built when the credential
//! is resolved, kept with it in the caller cache; compiled policies are shared by every
//! credential of the same permission-set version.

use iic_domain::agency_policy::AgencyPolicies;
use iic_domain::permission_set::Catalog;
use iic_store::AgencyRecord;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

/// What the policies of one temporary credential see of it.
#[derive(Debug)]
pub struct Agency {
    pub policies: Arc<AgencyPolicies>,
    pub permission_set_id: String,
    pub user_id: String,
    /// `g:UserId`, `g:UserName`, `g:DomainName`, `g:MFAPresent`, `g:PrincipalTag/<key>`.
    pub context: Vec<(String, Vec<String>)>,
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
        }
    }
}
