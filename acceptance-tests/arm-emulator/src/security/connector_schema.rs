//! The `SecurityConnector` resource body, api-version `2024-08-01-preview`: the tracked-resource
//! envelope, `properties` and the `environmentData` union discriminated by `environmentType`,
//! encoded by hand from the facts of the official OpenAPI definition. Offerings are in
//! [`super::offering_schema`].

use std::sync::LazyLock;

use crate::schema::{Field, Schema, array, field, int, map, object, union, variant};

/// `environmentName` values.
pub(crate) const CLOUD_NAMES: &[&str] = &[
    "Azure",
    "AWS",
    "GCP",
    "Github",
    "AzureDevOps",
    "GitLab",
    "DockerHub",
    "JFrog",
];

fn s(name: &'static str) -> Field {
    field(name, Schema::String)
}

fn membership(variants: [(&'static str, Vec<Field>); 2]) -> Schema {
    union(
        "organizationMembershipType",
        Vec::new(),
        variants.map(|(v, f)| variant(v, f)),
    )
}

fn environment_data() -> Schema {
    let aws_org = membership([
        (
            "Organization",
            vec![
                s("stacksetName"),
                field("excludedAccountIds", array(Schema::String)),
            ],
        ),
        ("Member", vec![s("parentHierarchyId")]),
    ]);
    let gcp_org = membership([
        (
            "Organization",
            vec![
                field("excludedProjectNumbers", array(Schema::String)),
                s("serviceAccountEmailAddress"),
                s("workloadIdentityProviderId"),
                s("organizationName").read_only(),
            ],
        ),
        (
            "Member",
            vec![s("parentHierarchyId"), s("managementProjectNumber")],
        ),
    ]);
    let authentication = union(
        "authenticationType",
        Vec::new(),
        [variant("AccessToken", [s("username"), s("accessToken")])],
    );
    union(
        "environmentType",
        Vec::new(),
        [
            // The AWS and GCP scan intervals carry no bounds in the definition (only the
            // description says 1 to 24 hours); the connector behaviour checks the range.
            variant(
                "AwsAccount",
                [
                    field("organizationalData", aws_org),
                    field("regions", array(Schema::String)),
                    s("accountName").read_only(),
                    field("scanInterval", int()),
                ],
            ),
            variant(
                "GcpProject",
                [
                    field("organizationalData", gcp_org),
                    field(
                        "projectDetails",
                        object([
                            s("projectNumber"),
                            s("projectId"),
                            s("workloadIdentityPoolId").read_only(),
                            s("projectName").read_only(),
                        ]),
                    ),
                    field("scanInterval", int()),
                ],
            ),
            variant("GithubScope", []),
            variant("AzureDevOpsScope", []),
            variant("GitlabScope", []),
            variant(
                "DockerHubOrganization",
                [
                    field("authentication", authentication),
                    field("scanInterval", int()),
                ],
            ),
            variant(
                "JFrogArtifactory",
                [field(
                    "scanInterval",
                    Schema::Int {
                        min: Some(1),
                        max: Some(24),
                    },
                )],
            ),
        ],
    )
}

fn properties() -> Schema {
    object([
        s("hierarchyIdentifier"),
        field("hierarchyIdentifierTrialEndDate", Schema::DateTime).read_only(),
        field("environmentName", Schema::Enum(CLOUD_NAMES)),
        field("offerings", array(super::offering_schema::cloud_offering())),
        field("environmentData", environment_data()),
    ])
}

/// The whole resource as a PUT/PATCH body. `location` is checked by the behaviour (ARM answers
/// `LocationRequired` before any payload validation), so it is optional here.
fn security_connector() -> Schema {
    object([
        s("id").read_only(),
        s("name").read_only(),
        s("type").read_only(),
        field("systemData", Schema::FreeForm).read_only(),
        s("location"),
        field("tags", map(Schema::String)),
        s("etag"),
        s("kind"),
        field("properties", properties()),
    ])
}

/// The schema, built once.
pub(crate) static SECURITY_CONNECTOR: LazyLock<Schema> = LazyLock::new(security_connector);
