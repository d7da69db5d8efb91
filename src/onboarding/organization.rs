//! Organization onboarding targets: from the organization's shape, the OUs the user chose and
//! the accounts to leave out, the StackSet deployment targets and the member accounts that end
//! up with the roles. Service-managed StackSets never deploy to the management account (it gets
//! its own stack), so it is never a member target, and excluding it is pointless but harmless.

use std::collections::{BTreeMap, BTreeSet};

/// What the targets are computed from: the organization's OUs and accounts with their parents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrganizationShape {
    /// The management account's id.
    pub management_account_id: String,
    /// The root id (`r-...`).
    pub root_id: String,
    /// OU id -> parent id (the root or another OU).
    pub organizational_units: BTreeMap<String, String>,
    /// Account id -> parent id (the root or an OU).
    pub accounts: BTreeMap<String, String>,
}

/// StackSet deployment targets and what they reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentPlan {
    /// OU ids (or the root id) to pass as `OrganizationalUnitIds`.
    pub organizational_unit_ids: Vec<String>,
    /// Accounts to pass with the `DIFFERENCE` filter: exclusions inside the targets, sorted.
    pub excluded_accounts: Vec<String>,
    /// Member accounts that get a stack instance (targets' accounts at any depth, minus the
    /// exclusions and the management account), sorted.
    pub member_accounts: Vec<String>,
    /// Excluded ids that are in the organization but outside the targets (no effect; worth
    /// a warning).
    pub exclusions_outside_targets: Vec<String>,
}

/// Why targets or exclusions are invalid; `index` is the position in the user's list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetIssue {
    /// Exclusions were given without organization mode.
    #[error(
        "excluded accounts only apply to organization onboarding: add an organization block, \
         or remove the exclusions"
    )]
    ExclusionsWithoutOrganization,
    /// An excluded id is not a 12-digit account id.
    #[error("excluded account {value:?} is not a 12-digit AWS account id")]
    NotAnAccountId {
        /// Position in the list.
        index: usize,
        /// The value given.
        value: String,
    },
    /// An excluded id is not an account of the organization.
    #[error("excluded account {value} is not an account of this organization")]
    NotInOrganization {
        /// Position in the list.
        index: usize,
        /// The value given.
        value: String,
    },
    /// A target is neither the root nor an OU of the organization.
    #[error(
        "deployment target {value:?} is neither the organization's root nor one of its OUs \
         (ids look like r-xxxx or ou-xxxx-xxxxxxxx)"
    )]
    UnknownTarget {
        /// Position in the list.
        index: usize,
        /// The value given.
        value: String,
    },
}

/// Whether `s` is a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Plan-time check that needs no organization: exclusions only in organization mode, and each
/// one shaped like an account id.
pub fn validate_exclusions(organization_mode: bool, excluded: &[String]) -> Vec<TargetIssue> {
    if !organization_mode && !excluded.is_empty() {
        return vec![TargetIssue::ExclusionsWithoutOrganization];
    }
    excluded
        .iter()
        .enumerate()
        .filter(|(_, v)| !is_account_id(v))
        .map(|(index, value)| TargetIssue::NotAnAccountId {
            index,
            value: value.clone(),
        })
        .collect()
}

impl OrganizationShape {
    /// Whether `ancestor` is `node` or one of its parents, grandparents, ... (cycles, which
    /// AWS cannot produce, end the walk).
    fn is_under<'a>(&'a self, mut node: &'a str, ancestor: &str) -> bool {
        for _ in 0..=self.organizational_units.len() {
            if node == ancestor {
                return true;
            }
            match self.organizational_units.get(node) {
                Some(parent) => node = parent,
                None => return false,
            }
        }
        false
    }

    /// Computes the deployment targets for `targets` (OU ids or the root id; empty = the
    /// whole organization) minus `excluded`, or every issue found.
    pub fn deployment_plan(
        &self,
        targets: &[String],
        excluded: &[String],
    ) -> Result<DeploymentPlan, Vec<TargetIssue>> {
        let mut issues = validate_exclusions(true, excluded);
        let targets: Vec<String> = if targets.is_empty() {
            vec![self.root_id.clone()]
        } else {
            targets.to_vec()
        };
        for (index, t) in targets.iter().enumerate() {
            if *t != self.root_id && !self.organizational_units.contains_key(t) {
                issues.push(TargetIssue::UnknownTarget {
                    index,
                    value: t.clone(),
                });
            }
        }
        for (index, e) in excluded.iter().enumerate() {
            if is_account_id(e) && !self.accounts.contains_key(e) {
                issues.push(TargetIssue::NotInOrganization {
                    index,
                    value: e.clone(),
                });
            }
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        // A target nested under another target adds nothing; AWS accepts both, but the
        // canonical form keeps plans stable.
        let organizational_unit_ids: Vec<String> = targets
            .iter()
            .filter(|t| {
                !targets
                    .iter()
                    .any(|other| other != *t && self.is_under(t, other))
            })
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let excluded: BTreeSet<&String> = excluded.iter().collect();
        let reached: BTreeSet<&String> = self
            .accounts
            .iter()
            .filter(|(id, parent)| {
                **id != self.management_account_id
                    && organizational_unit_ids
                        .iter()
                        .any(|t| self.is_under(parent, t))
            })
            .map(|(id, _)| id)
            .collect();
        let (inside, outside): (Vec<&String>, Vec<&String>) =
            excluded.iter().partition(|e| reached.contains(**e));
        Ok(DeploymentPlan {
            organizational_unit_ids,
            excluded_accounts: inside.into_iter().cloned().collect(),
            member_accounts: reached
                .into_iter()
                .filter(|a| !excluded.contains(a))
                .cloned()
                .collect(),
            exclusions_outside_targets: outside.into_iter().cloned().collect(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(v: &str) -> String {
        v.to_owned()
    }

    /// root r-1: management 100000000000, a1 at the root; ou-a (a2) > ou-b (a3, a4); ou-c (a5).
    fn shape() -> OrganizationShape {
        OrganizationShape {
            management_account_id: s("100000000000"),
            root_id: s("r-1"),
            organizational_units: [("ou-a", "r-1"), ("ou-b", "ou-a"), ("ou-c", "r-1")]
                .into_iter()
                .map(|(a, b)| (s(a), s(b)))
                .collect(),
            accounts: [
                ("100000000000", "r-1"),
                ("111111111111", "r-1"),
                ("222222222222", "ou-a"),
                ("333333333333", "ou-b"),
                ("444444444444", "ou-b"),
                ("555555555555", "ou-c"),
            ]
            .into_iter()
            .map(|(a, b)| (s(a), s(b)))
            .collect(),
        }
    }

    #[test]
    fn whole_organization_skips_management_account_and_exclusions() {
        let p = shape().deployment_plan(&[], &[s("333333333333")]).unwrap();
        assert_eq!(p.organizational_unit_ids, [s("r-1")]);
        assert_eq!(p.excluded_accounts, [s("333333333333")]);
        assert_eq!(
            p.member_accounts,
            [
                "111111111111",
                "222222222222",
                "444444444444",
                "555555555555"
            ]
            .map(s)
        );
        assert!(p.exclusions_outside_targets.is_empty());
    }

    #[test]
    fn nested_ou_targets_reach_every_depth_and_collapse() {
        let p = shape()
            .deployment_plan(&[s("ou-b"), s("ou-a")], &[s("555555555555")])
            .unwrap();
        assert_eq!(p.organizational_unit_ids, [s("ou-a")]);
        assert_eq!(
            p.member_accounts,
            ["222222222222", "333333333333", "444444444444"].map(s)
        );
        assert!(p.excluded_accounts.is_empty());
        assert_eq!(p.exclusions_outside_targets, [s("555555555555")]);
    }

    #[test]
    fn every_issue_is_reported_with_its_index() {
        let err = shape()
            .deployment_plan(&[s("ou-a"), s("ou-zzz")], &[s("12345"), s("999999999999")])
            .unwrap_err();
        assert_eq!(
            err,
            vec![
                TargetIssue::NotAnAccountId {
                    index: 0,
                    value: s("12345")
                },
                TargetIssue::UnknownTarget {
                    index: 1,
                    value: s("ou-zzz")
                },
                TargetIssue::NotInOrganization {
                    index: 1,
                    value: s("999999999999")
                },
            ]
        );
        assert!(
            err[2]
                .to_string()
                .contains("not an account of this organization")
        );
    }

    #[test]
    fn exclusions_need_organization_mode() {
        assert_eq!(
            validate_exclusions(false, &[s("111111111111")]),
            [TargetIssue::ExclusionsWithoutOrganization]
        );
        assert!(validate_exclusions(false, &[]).is_empty());
        assert!(validate_exclusions(true, &[s("111111111111")]).is_empty());
        assert!(is_account_id("012345678901") && !is_account_id("01234567890a"));
    }
}
