//! The plan set's computed attributes, remembered per normalised plan set for the life of the
//! process.
//!
//! Every plan recomputes a plan set's outputs from its configuration (roles, offerings), so that a provider upgrade that changes the product knowledge shows up as a plan.
//! That work is a pure function of the normalised [`PlanSet`] and of the product knowledge
//! compiled into this binary, and one plan set usually serves many accounts: a configuration
//! with hundreds of identical plan sets would otherwise compute the same outputs hundreds of
//! times per plan. The memo is keyed by the whole normalised plan set (compared for equality,
//! not by a hash that could collide), and it is never persisted: a new provider version starts
//! with an empty memo, so its outputs are always its own.

use std::sync::{Arc, Mutex, PoisonError};

use crate::onboarding::{self, PlanSet};
use crate::protocol::Value;

use super::defender_plan_set_schema as inputs;

/// Distinct plan sets remembered; the oldest is forgotten beyond this. A configuration rarely
/// declares more than a handful of distinct plan sets.
pub(crate) const CAPACITY: usize = 64;

/// The computed attributes of one plan set, by attribute name.
pub(crate) type Outputs = [(&'static str, Value); 3];

/// Plan sets whose outputs are known, oldest first.
static MEMO: Mutex<Vec<(PlanSet, Arc<Outputs>)>> = Mutex::new(Vec::new());

/// The computed attributes for `plans`, computed once per distinct plan set.
pub(crate) fn outputs(plans: &PlanSet) -> Arc<Outputs> {
    if let Some(hit) = lookup(plans) {
        return hit;
    }
    // Computed outside the lock: parallel plans of other plan sets need not wait. Two callers
    // racing on the same plan set compute equal outputs, and the second one stored is ignored.
    let computed = Arc::new(compute(plans));
    let mut memo = MEMO.lock().unwrap_or_else(PoisonError::into_inner);
    if !memo.iter().any(|(p, _)| p == plans) {
        if memo.len() >= CAPACITY {
            memo.remove(0);
        }
        memo.push((plans.clone(), Arc::clone(&computed)));
    }
    computed
}

fn lookup(plans: &PlanSet) -> Option<Arc<Outputs>> {
    let memo = MEMO.lock().unwrap_or_else(PoisonError::into_inner);
    memo.iter()
        .find(|(p, _)| p == plans)
        .map(|(_, o)| Arc::clone(o))
}

/// The computed attributes for `plans`, from scratch.
pub(crate) fn compute(plans: &PlanSet) -> Outputs {
    [
        ("id", Value::from(plans.id())),
        (
            "offerings",
            Value::from(onboarding::offerings_json(plans, &Default::default())),
        ),
        ("aws_roles", inputs::roles_value(plans)),
    ]
}

#[cfg(test)]
fn remembered() -> usize {
    MEMO.lock().unwrap_or_else(PoisonError::into_inner).len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::onboarding::{PlanSetSpec, RoleKey, ServersSpec};

    fn plan_set(servers: Option<&str>, cspm_role: Option<&str>) -> PlanSet {
        let mut spec = PlanSetSpec::default();
        if let Some(plan) = servers {
            spec.servers = Some(ServersSpec {
                plan: Some(plan.to_owned()),
                ..Default::default()
            });
        }
        if let Some(name) = cspm_role {
            spec.role_names
                .insert(RoleKey::CspmMonitor.as_str().to_owned(), name.to_owned());
        }
        PlanSet::new(&spec).expect("a valid plan set")
    }

    #[test]
    fn a_changed_plan_set_never_gets_the_outputs_of_the_one_before() {
        let p1 = plan_set(Some("P1"), Some("MemoTestA"));
        let p2 = plan_set(Some("P2"), Some("MemoTestA"));
        let renamed = plan_set(Some("P2"), Some("MemoTestB"));

        let first = outputs(&p1);
        assert_eq!(*first, compute(&p1));
        // Each input change: the outputs are those of the new input, not the remembered ones.
        for changed in [&p2, &renamed] {
            let out = outputs(changed);
            assert_eq!(*out, compute(changed));
            assert_ne!(*out, *first);
        }
        // The first plan set again: remembered, not recomputed.
        assert!(Arc::ptr_eq(&outputs(&p1), &first));
        assert_eq!(*outputs(&p1), compute(&p1));
    }

    #[test]
    fn only_the_access_mode_changed_still_changes_the_outputs() {
        let mut spec = PlanSetSpec::default();
        let default = outputs(&PlanSet::new(&spec).expect("valid"));
        spec.access = Some("least_privilege".to_owned());
        let gov = PlanSet::new(&spec).expect("valid");
        assert_eq!(*outputs(&gov), compute(&gov));
        assert_ne!(*outputs(&gov), *default);
    }

    #[test]
    fn the_memo_stays_bounded() {
        for i in 0..(CAPACITY + 5) {
            let name = format!("MemoBound{i}");
            let plans = plan_set(None, Some(&name));
            assert_eq!(*outputs(&plans), compute(&plans));
        }
        assert!(remembered() <= CAPACITY);
    }
}
