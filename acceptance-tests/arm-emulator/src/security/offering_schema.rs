//! The `offerings[]` items of `Microsoft.Security/securityConnectors`, api-version
//! `2024-08-01-preview`: the `cloudOffering` union discriminated by `offeringType`, one variant
//! per offering type, encoded by hand from the facts of the official OpenAPI definition.
//!
//! Shared sub-objects mirror the definition's `allOf` composition: `vmScannersAws` is the base
//! VM-scanner object plus a sibling `cloudRoleArn` (older api-versions nested it inside
//! `configuration`, which this version rejects), and `arcAutoProvisioningAws` likewise.

use crate::schema::{Field, Schema, Variant, field, object, union, variant};

/// Every `offeringType` this api-version defines, in the definition's order.
#[cfg(test)]
const OFFERING_TYPES: &[&str] = &[
    "CspmMonitorAws",
    "DefenderForContainersAws",
    "DefenderForServersAws",
    "DefenderForDatabasesAws",
    "CspmMonitorGcp",
    "CspmMonitorGithub",
    "CspmMonitorAzureDevOps",
    "DefenderForServersGcp",
    "DefenderForContainersGcp",
    "DefenderForDatabasesGcp",
    "DefenderCspmAws",
    "DefenderCspmGcp",
    "CspmMonitorGitLab",
    "CspmMonitorDockerHub",
    "DefenderForContainersDockerHub",
    "DefenderCspmDockerHub",
    "CspmMonitorJFrog",
    "DefenderForContainersJFrog",
    "DefenderCspmJFrog",
];

fn s(name: &'static str) -> Field {
    field(name, Schema::String)
}

fn b(name: &'static str) -> Field {
    field(name, Schema::Bool)
}

/// `{cloudRoleArn}`.
fn role(name: &'static str) -> Field {
    field(name, object([s("cloudRoleArn")]))
}

/// `{enabled, cloudRoleArn}`.
fn toggle_role(name: &'static str) -> Field {
    field(name, object([b("enabled"), s("cloudRoleArn")]))
}

/// `{workloadIdentityProviderId, serviceAccountEmailAddress}` (GCP identities).
fn gcp_identity(name: &'static str) -> Field {
    field(
        name,
        object([
            s("workloadIdentityProviderId"),
            s("serviceAccountEmailAddress"),
        ]),
    )
}

/// `{enabled, workloadIdentityProviderId, serviceAccountEmailAddress}`.
fn gcp_toggle(name: &'static str) -> Field {
    field(
        name,
        object([
            b("enabled"),
            s("workloadIdentityProviderId"),
            s("serviceAccountEmailAddress"),
        ]),
    )
}

/// `vmScannersBase`: `enabled` and `configuration {scanningMode, exclusionTags}`.
fn vm_scanners_base() -> Vec<Field> {
    vec![
        b("enabled"),
        field(
            "configuration",
            object([
                field("scanningMode", Schema::Enum(&["Default"])),
                field("exclusionTags", crate::schema::map(Schema::String)),
            ]),
        ),
    ]
}

fn vm_scanners_aws() -> Field {
    let mut fields = vm_scanners_base();
    fields.push(s("cloudRoleArn"));
    field("vmScanners", object(fields))
}

fn vm_scanners_gcp() -> Field {
    field("vmScanners", object(vm_scanners_base()))
}

/// `arcAutoProvisioning`: `enabled` and `configuration {proxy, privateLinkScope}`.
fn arc_base() -> Vec<Field> {
    vec![
        b("enabled"),
        field("configuration", object([s("proxy"), s("privateLinkScope")])),
    ]
}

fn arc_aws() -> Field {
    let mut fields = arc_base();
    fields.push(s("cloudRoleArn"));
    field("arcAutoProvisioning", object(fields))
}

fn arc_gcp() -> Field {
    field("arcAutoProvisioning", object(arc_base()))
}

/// `vaAutoProvisioning`, `mdeAutoProvisioning` and `subPlan`, shared by both Servers offerings.
fn servers_common() -> Vec<Field> {
    vec![
        field(
            "vaAutoProvisioning",
            object([
                b("enabled"),
                field(
                    "configuration",
                    object([field("type", Schema::Enum(&["Qualys", "TVM"]))]),
                ),
            ]),
        ),
        // The definition declares `configuration` as an object with no properties and gives no
        // schema for it; it is treated as free-form rather than as "must be empty".
        field(
            "mdeAutoProvisioning",
            object([b("enabled"), field("configuration", Schema::FreeForm)]),
        ),
        field(
            "subPlan",
            object([field("type", Schema::Enum(&["P1", "P2"]))]),
        ),
    ]
}

fn containers_flags() -> Vec<Field> {
    vec![
        b("enableAuditLogsAutoProvisioning"),
        b("enableDefenderAgentAutoProvisioning"),
        b("enablePolicyAgentAutoProvisioning"),
    ]
}

fn aws_variants() -> Vec<Variant> {
    let mut containers = vec![
        role("kubernetesService"),
        role("kubernetesDataCollection"),
        role("cloudWatchToKinesis"),
        role("kinesisToS3"),
    ];
    containers.extend(containers_flags());
    containers.extend([
        field("kubeAuditRetentionTime", crate::schema::int()),
        s("dataCollectionExternalId"),
        toggle_role("mdcContainersImageAssessment"),
        toggle_role("mdcContainersAgentlessDiscoveryK8s"),
        vm_scanners_aws(),
    ]);
    let mut servers = vec![role("defenderForServers"), arc_aws()];
    servers.extend(servers_common());
    servers.push(vm_scanners_aws());
    vec![
        variant("CspmMonitorAws", [role("nativeCloudConnection")]),
        variant("DefenderForContainersAws", containers),
        variant("DefenderForServersAws", servers),
        // The definition's name for this one is `defenderFoDatabasesAwsOffering` (sic).
        variant(
            "DefenderForDatabasesAws",
            [arc_aws(), toggle_role("rds"), toggle_role("databasesDspm")],
        ),
        variant(
            "DefenderCspmAws",
            [
                vm_scanners_aws(),
                toggle_role("dataSensitivityDiscovery"),
                toggle_role("databasesDspm"),
                field(
                    "ciem",
                    object([
                        role("ciemDiscovery"),
                        field(
                            "ciemOidc",
                            object([s("cloudRoleArn"), s("azureActiveDirectoryAppName")]),
                        ),
                    ]),
                ),
                toggle_role("mdcContainersImageAssessment"),
                toggle_role("mdcContainersAgentlessDiscoveryK8s"),
            ],
        ),
    ]
}

fn gcp_variants() -> Vec<Variant> {
    let mut containers = vec![
        gcp_identity("nativeCloudConnection"),
        gcp_identity("dataPipelineNativeCloudConnection"),
    ];
    containers.extend(containers_flags());
    containers.extend([
        gcp_toggle("mdcContainersImageAssessment"),
        gcp_toggle("mdcContainersAgentlessDiscoveryK8s"),
        vm_scanners_gcp(),
    ]);
    let mut servers = vec![gcp_identity("defenderForServers"), arc_gcp()];
    servers.extend(servers_common());
    servers.push(vm_scanners_gcp());
    vec![
        variant("CspmMonitorGcp", [gcp_identity("nativeCloudConnection")]),
        variant("DefenderForServersGcp", servers),
        variant("DefenderForContainersGcp", containers),
        variant(
            "DefenderForDatabasesGcp",
            [
                arc_gcp(),
                gcp_identity("defenderForDatabasesArcAutoProvisioning"),
            ],
        ),
        variant(
            "DefenderCspmGcp",
            [
                field(
                    "ciemDiscovery",
                    object([
                        s("workloadIdentityProviderId"),
                        s("serviceAccountEmailAddress"),
                        s("azureActiveDirectoryAppName"),
                    ]),
                ),
                vm_scanners_gcp(),
                gcp_toggle("dataSensitivityDiscovery"),
                gcp_toggle("mdcContainersImageAssessment"),
                gcp_toggle("mdcContainersAgentlessDiscoveryK8s"),
            ],
        ),
    ]
}

/// The `cloudOffering` union.
pub(crate) fn cloud_offering() -> Schema {
    let mut variants = aws_variants();
    variants.extend(gcp_variants());
    // Offerings of the code and registry environments carry no settings of their own.
    for empty in [
        "CspmMonitorGithub",
        "CspmMonitorAzureDevOps",
        "CspmMonitorGitLab",
        "CspmMonitorDockerHub",
        "DefenderForContainersDockerHub",
        "DefenderCspmDockerHub",
        "CspmMonitorJFrog",
        "DefenderForContainersJFrog",
    ] {
        variants.push(variant(empty, []));
    }
    variants.push(variant(
        "DefenderCspmJFrog",
        [field(
            "mdcContainersImageAssessment",
            object([b("enabled")]),
        )],
    ));
    union(
        "offeringType",
        vec![field("description", Schema::String).read_only()],
        variants,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offering_type_has_exactly_one_variant() {
        let Schema::Union(u) = cloud_offering() else {
            panic!("cloudOffering must be a union")
        };
        let mut values: Vec<&str> = u.variants.iter().map(|v| v.value).collect();
        values.sort_unstable();
        let mut expected = OFFERING_TYPES.to_vec();
        expected.sort_unstable();
        assert_eq!(values, expected);
    }
}
