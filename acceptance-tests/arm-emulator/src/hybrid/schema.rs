//! Request bodies of `Microsoft.HybridConnectivity` (api-version `2024-12-01`), encoded by hand
//! from the facts of the official OpenAPI definition: the public cloud connector, its solution
//! configurations and the `generateAwsTemplate` request.

use std::sync::LazyLock;

use crate::schema::{Field, Schema, array, field, map, object};

/// `hostType` values of the api-version (GCP arrives in a later preview).
const HOST_TYPES: &[&str] = &["AWS"];
/// `provisioningState` values (read-only).
const PROVISIONING_STATES: &[&str] = &["Succeeded", "Failed", "Canceled", "Creating", "Updating"];
/// `status` of a solution configuration (read-only).
const SOLUTION_STATUSES: &[&str] = &["New", "InProgress", "Completed", "Failed"];

fn s(name: &'static str) -> Field {
    field(name, Schema::String)
}

fn envelope(properties: Schema, tracked: bool) -> Schema {
    let mut fields = vec![
        s("id").read_only(),
        s("name").read_only(),
        s("type").read_only(),
        field("systemData", Schema::FreeForm).read_only(),
        field("properties", properties),
    ];
    if tracked {
        fields.push(s("location"));
        fields.push(field("tags", map(Schema::String)));
    }
    object(fields)
}

fn connector() -> Schema {
    let aws = object([
        s("accountId").required(),
        field("excludedAccounts", array(Schema::String)),
        field("isOrganizationalAccount", Schema::Bool),
    ]);
    envelope(
        object([
            field("hostType", Schema::Enum(HOST_TYPES)).required(),
            field("awsCloudProfile", aws).required(),
            field("provisioningState", Schema::Enum(PROVISIONING_STATES)).read_only(),
            s("connectorPrimaryIdentifier").read_only(),
        ]),
        true,
    )
}

fn solution_configuration() -> Schema {
    envelope(
        object([
            s("solutionType").required(),
            field("solutionSettings", map(Schema::String)),
            field("provisioningState", Schema::Enum(PROVISIONING_STATES)).read_only(),
            field("status", Schema::Enum(SOLUTION_STATUSES)).read_only(),
            s("statusDetails").read_only(),
            field("lastSyncTime", Schema::DateTime).read_only(),
        ]),
        false,
    )
}

fn generate_request() -> Schema {
    object([
        s("connectorId").required(),
        field(
            "solutionTypes",
            array(object([
                s("solutionType"),
                field("solutionSettings", map(Schema::String)),
            ])),
        ),
    ])
}

/// `PublicCloudConnector`, built once.
pub(crate) static CONNECTOR: LazyLock<Schema> = LazyLock::new(connector);
/// `SolutionConfiguration`, built once.
pub(crate) static SOLUTION_CONFIGURATION: LazyLock<Schema> = LazyLock::new(solution_configuration);
/// `GenerateAwsTemplateRequest`, built once.
pub(crate) static GENERATE_REQUEST: LazyLock<Schema> = LazyLock::new(generate_request);
