//! Identifiers parsed once at the edge: import ids and ARM resource ids.

use std::fmt;

use super::validators;

/// `/subscriptions/<subscription_id>/providers/<namespace>`: a resource provider registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderRegistrationId {
    /// The subscription GUID.
    pub(crate) subscription_id: String,
    /// The namespace, for example `Microsoft.Security`.
    pub(crate) namespace: String,
}

impl ProviderRegistrationId {
    /// Parses the id; ARM ids are case-insensitive, so the segment names are too.
    pub(crate) fn parse(id: &str) -> Result<Self, String> {
        let expected = "expected /subscriptions/<subscription id>/providers/<namespace>, for example \
                        /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Security";
        let segments: Vec<&str> = id.trim_end_matches('/').split('/').collect();
        match segments.as_slice() {
            ["", subs, sub, providers, ns]
                if subs.eq_ignore_ascii_case("subscriptions")
                    && providers.eq_ignore_ascii_case("providers") =>
            {
                validators::guid(sub).map_err(|e| format!("{id:?}: {e}"))?;
                validators::rp_namespace(ns).map_err(|e| format!("{id:?}: {e}"))?;
                Ok(Self {
                    subscription_id: (*sub).to_owned(),
                    namespace: (*ns).to_owned(),
                })
            }
            _ => Err(format!("{id:?} is not a resource provider id; {expected}")),
        }
    }
}

impl fmt::Display for ProviderRegistrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/providers/{}",
            self.subscription_id, self.namespace
        )
    }
}

/// `/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Security/securityConnectors/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecurityConnectorId {
    /// The subscription GUID.
    pub(crate) subscription_id: String,
    /// The resource group name.
    pub(crate) resource_group_name: String,
    /// The connector name.
    pub(crate) name: String,
}

impl SecurityConnectorId {
    /// Parses the id; segment names and the provider namespace are case-insensitive, as in ARM.
    pub(crate) fn parse(id: &str) -> Result<Self, String> {
        let expected = "expected /subscriptions/<subscription id>/resourceGroups/<resource group>/providers/\
                        Microsoft.Security/securityConnectors/<name>, for example /subscriptions/\
                        00000000-0000-0000-0000-000000000000/resourceGroups/rg-security/providers/\
                        Microsoft.Security/securityConnectors/aws-prod";
        let segments: Vec<&str> = id.trim_end_matches('/').split('/').collect();
        match segments.as_slice() {
            ["", subs, sub, groups, rg, providers, ns, kind, name]
                if subs.eq_ignore_ascii_case("subscriptions")
                    && groups.eq_ignore_ascii_case("resourceGroups")
                    && providers.eq_ignore_ascii_case("providers")
                    && ns.eq_ignore_ascii_case("Microsoft.Security")
                    && kind.eq_ignore_ascii_case("securityConnectors") =>
            {
                validators::guid(sub).map_err(|e| format!("{id:?}: {e}"))?;
                validators::resource_group_name(rg).map_err(|e| format!("{id:?}: {e}"))?;
                if name.is_empty() {
                    return Err(format!("{id:?} has an empty connector name; {expected}"));
                }
                Ok(Self {
                    subscription_id: (*sub).to_owned(),
                    resource_group_name: (*rg).to_owned(),
                    name: (*name).to_owned(),
                })
            }
            _ => Err(format!("{id:?} is not a security connector id; {expected}")),
        }
    }

    /// Whether `other` names the same connector (ARM ids are case-insensitive).
    pub(crate) fn same_as(&self, other: &str) -> bool {
        self.to_string()
            .eq_ignore_ascii_case(other.trim_end_matches('/'))
    }
}

impl fmt::Display for SecurityConnectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Security/securityConnectors/{}",
            self.subscription_id, self.resource_group_name, self.name
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SUB: &str = "11111111-2222-3333-4444-555555555555";

    #[test]
    fn parse_format_round_trip() {
        let id = format!("/subscriptions/{SUB}/providers/Microsoft.Security");
        let parsed = ProviderRegistrationId::parse(&id).unwrap();
        assert_eq!(parsed.namespace, "Microsoft.Security");
        assert_eq!(parsed.subscription_id, SUB);
        assert_eq!(parsed.to_string(), id);
        assert_eq!(
            ProviderRegistrationId::parse(&parsed.to_string()).unwrap(),
            parsed
        );
    }

    #[test]
    fn segment_names_are_case_insensitive() {
        let parsed = ProviderRegistrationId::parse(&format!(
            "/SUBSCRIPTIONS/{SUB}/Providers/Microsoft.Security/"
        ))
        .unwrap();
        assert_eq!(parsed.namespace, "Microsoft.Security");
    }

    #[test]
    fn rejects_malformed_ids_with_the_expected_form() {
        for bad in [
            "",
            "Microsoft.Security",
            "/subscriptions/not-a-guid/providers/Microsoft.Security",
            "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/x",
            "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Security/connectors",
        ] {
            let err = ProviderRegistrationId::parse(bad).unwrap_err();
            assert!(err.contains("subscription"), "{bad}: {err}");
        }
    }

    #[test]
    fn security_connector_ids() {
        let id = format!(
            "/subscriptions/{SUB}/resourceGroups/rg-sec/providers/Microsoft.Security/securityConnectors/aws-prod"
        );
        let parsed = SecurityConnectorId::parse(&id).unwrap();
        assert_eq!(parsed.resource_group_name, "rg-sec");
        assert_eq!(parsed.name, "aws-prod");
        assert_eq!(parsed.to_string(), id);
        // ARM answers with other casings; they name the same connector.
        let lower = id.to_ascii_lowercase();
        assert_eq!(SecurityConnectorId::parse(&lower).unwrap().name, "aws-prod");
        assert!(parsed.same_as(&lower));
        assert!(!parsed.same_as(&id.replace("aws-prod", "aws-dev")));
        for bad in [
            "aws-prod".to_owned(),
            format!("/subscriptions/{SUB}/resourceGroups/rg-sec"),
            format!("/subscriptions/{SUB}/resourceGroups/rg-sec/providers/Microsoft.Security/pricings/CloudPosture"),
            format!("/subscriptions/{SUB}/resourceGroups/rg-sec/providers/Microsoft.HybridConnectivity/securityConnectors/x"),
            "/subscriptions/nope/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/x".to_owned(),
            format!("/subscriptions/{SUB}/resourceGroups/rg./providers/Microsoft.Security/securityConnectors/x"),
        ] {
            let err = SecurityConnectorId::parse(&bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
        let err = SecurityConnectorId::parse("aws-prod").unwrap_err();
        assert!(err.contains("expected /subscriptions/"), "{err}");
    }
}
