//! Permissions of each role, in `default` and `least_privilege` access. Where Microsoft's
//! templates and docs name the permissions (managed policies, the main actions) we follow them;
//! the exact inline lists, and how `least_privilege` narrows them, are OUR CHOICE, made to be
//! the smallest set that covers the documented behaviour, and marked so below.

use serde_json::{Value as Json, json};

use super::plans::Access;
use super::roles::RoleKey;

const READ_ONLY_ACCESS: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const SECURITY_AUDIT: &str = "arn:aws:iam::aws:policy/SecurityAudit";
const S3_READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const ECR_POWER_USER: &str = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser";
const ECR_READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

/// Tag Defender for Cloud puts on the snapshots and keys it creates.
const DEFENDER_TAG: &str = "aws:ResourceTag/CreatedByDefenderForCloud";

/// AWS managed policies attached to role `key` (sorted).
pub(crate) fn managed_policies(key: RoleKey, access: Access) -> &'static [&'static str] {
    use Access::*;
    match (key, access) {
        (RoleKey::CspmMonitor, Default) => &[READ_ONLY_ACCESS],
        (RoleKey::CspmMonitor, LeastPrivilege) => &[SECURITY_AUDIT],
        (RoleKey::ContainersImageAssessment, Default) => &[ECR_POWER_USER],
        (RoleKey::ContainersImageAssessment, LeastPrivilege) => &[ECR_READ_ONLY],
        (RoleKey::SensitiveDataDiscovery, _) => &[S3_READ_ONLY],
        (RoleKey::Ciem, _) => &[SECURITY_AUDIT],
        _ => &[],
    }
}

/// Name of role `key`'s inline policy.
pub(crate) fn inline_policy_name(key: RoleKey) -> String {
    let logical = key.logical_id();
    format!("DefenderForCloud{}Policy", logical.trim_end_matches("Role"))
}

fn doc(statements: Vec<Json>) -> Json {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn allow(sid: &str, actions: &[&str], resources: Json) -> Json {
    json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources})
}

fn allow_if(sid: &str, actions: &[&str], resources: Json, condition: Json) -> Json {
    json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, "Condition": condition})
}

const DEFENDER_BUCKETS: [&str; 4] = [
    "arn:aws:s3:::azuredefender-*",
    "arn:aws:s3:::azuredefender-*/*",
    "arn:aws:s3:::ms-defender-*",
    "arn:aws:s3:::ms-defender-*/*",
];
const DEFENDER_STREAMS: [&str; 2] = [
    "arn:aws:firehose:*:*:deliverystream/azuredefender-*",
    "arn:aws:firehose:*:*:deliverystream/ms-defender-*",
];
const DEFENDER_QUEUES: [&str; 2] = [
    "arn:aws:sqs:*:*:azuredefender-*",
    "arn:aws:sqs:*:*:ms-defender-*",
];

/// Inline policy document of role `key`, or `None` when managed policies suffice.
/// `names` gives the name of any role in the plan set (for `iam:PassRole` / `sts:AssumeRole`).
pub(crate) fn inline_policy(
    key: RoleKey,
    access: Access,
    names: &dyn Fn(RoleKey) -> String,
) -> Option<Json> {
    let lp = access == Access::LeastPrivilege;
    let statements = match key {
        // ReadOnlyAccess also reads billing data the posture scan has no use for (OUR CHOICE of
        // the deny list); least privilege relies on SecurityAudit plus the few reads it lacks.
        RoleKey::CspmMonitor if lp => vec![allow(
            "ReadPostureExtras",
            &[
                "apigateway:GET",
                "ecr:DescribeImages",
                "ecr:DescribeRepositories",
                "eks:DescribeCluster",
                "eks:ListClusters",
                "ssm:DescribeInstanceInformation",
            ],
            json!("*"),
        )],
        RoleKey::CspmMonitor => vec![json!({
            "Sid": "DenyBillingData", "Effect": "Deny", "Resource": "*",
            "Action": ["aws-portal:*", "billing:*", "ce:*", "consolidatedbilling:*", "cur:*",
                       "freetier:*", "invoicing:*", "payments:*", "tax:*"],
        })],
        RoleKey::AgentlessScanner => scanner(lp),
        // Just-in-time network access edits security group rules (OUR CHOICE: least privilege
        // leaves out creating and deleting whole groups).
        RoleKey::DefenderForServers => {
            let mut actions = vec![
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:DescribeInstances",
                "ec2:DescribeSecurityGroupRules",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
                "ec2:ModifySecurityGroupRules",
                "ec2:RevokeSecurityGroupIngress",
            ];
            if !lp {
                actions.extend([
                    "ec2:CreateSecurityGroup",
                    "ec2:DeleteSecurityGroup",
                    "ec2:ModifyInstanceAttribute",
                    "ec2:ModifyNetworkInterfaceAttribute",
                ]);
            }
            actions.sort_unstable();
            vec![allow("JitNetworkAccess", &actions, json!("*"))]
        }
        RoleKey::ArcAutoProvisioning => {
            let send = if lp {
                json!([
                    "arn:aws:ec2:*:*:instance/*",
                    "arn:aws:ssm:*::document/AWS-RunPowerShellScript",
                    "arn:aws:ssm:*::document/AWS-RunShellScript"
                ])
            } else {
                json!("*")
            };
            vec![
                allow("RunArcInstallScript", &["ssm:SendCommand"], send),
                allow(
                    "ReadInstances",
                    &[
                        "ec2:DescribeInstances",
                        "iam:GetInstanceProfile",
                        "ssm:DescribeInstanceInformation",
                        "ssm:GetCommandInvocation",
                        "ssm:ListCommandInvocations",
                    ],
                    json!("*"),
                ),
            ]
        }
        RoleKey::ContainersK8s => {
            let (queues, buckets, streams, pass) = if lp {
                (
                    json!(DEFENDER_QUEUES),
                    json!(DEFENDER_BUCKETS),
                    json!(DEFENDER_STREAMS),
                    json!([
                        format!(
                            "arn:aws:iam::*:role/{}",
                            names(RoleKey::ContainersCloudwatchToKinesis)
                        ),
                        format!(
                            "arn:aws:iam::*:role/{}",
                            names(RoleKey::ContainersKinesisToS3)
                        ),
                    ]),
                )
            } else {
                (json!("*"), json!("*"), json!("*"), json!("*"))
            };
            vec![
                allow(
                    "ClusterLogging",
                    &[
                        "eks:DescribeCluster",
                        "eks:ListClusters",
                        "eks:UpdateClusterConfig",
                        "logs:DescribeLogGroups",
                        "logs:DescribeSubscriptionFilters",
                        "logs:PutRetentionPolicy",
                        "logs:PutSubscriptionFilter",
                    ],
                    json!("*"),
                ),
                allow(
                    "LogQueues",
                    &[
                        "sqs:CreateQueue",
                        "sqs:GetQueueAttributes",
                        "sqs:SetQueueAttributes",
                        "sqs:TagQueue",
                    ],
                    queues,
                ),
                allow(
                    "LogBuckets",
                    &[
                        "s3:CreateBucket",
                        "s3:PutBucketNotification",
                        "s3:PutBucketPolicy",
                        "s3:PutEncryptionConfiguration",
                        "s3:PutLifecycleConfiguration",
                    ],
                    buckets,
                ),
                allow(
                    "LogStreams",
                    &[
                        "firehose:CreateDeliveryStream",
                        "firehose:DescribeDeliveryStream",
                        "firehose:TagDeliveryStream",
                    ],
                    streams,
                ),
                allow("PassPipelineRoles", &["iam:PassRole"], pass),
            ]
        }
        RoleKey::ContainersDataCollection => vec![
            allow(
                "ReadAuditLogQueues",
                &["sqs:DeleteMessage", "sqs:ReceiveMessage"],
                json!(DEFENDER_QUEUES),
            ),
            allow(
                "ReadAuditLogObjects",
                &["s3:GetBucketLocation", "s3:GetObject"],
                json!(DEFENDER_BUCKETS),
            ),
        ],
        RoleKey::ContainersCloudwatchToKinesis => {
            let actions: &[&str] = if lp {
                &["firehose:PutRecord", "firehose:PutRecordBatch"]
            } else {
                &["firehose:*"]
            };
            vec![allow(
                "WriteAuditLogStreams",
                actions,
                json!(DEFENDER_STREAMS),
            )]
        }
        RoleKey::ContainersKinesisToS3 => {
            let actions: &[&str] = if lp {
                &[
                    "s3:AbortMultipartUpload",
                    "s3:GetBucketLocation",
                    "s3:GetObject",
                    "s3:ListBucket",
                    "s3:ListBucketMultipartUploads",
                    "s3:PutObject",
                ]
            } else {
                &["s3:*"]
            };
            vec![allow(
                "WriteAuditLogObjects",
                actions,
                json!(DEFENDER_BUCKETS),
            )]
        }
        RoleKey::ContainersImageAssessment => return None,
        RoleKey::ContainersAgentlessDiscoveryK8s => {
            let mut actions = vec!["eks:DescribeCluster", "eks:UpdateClusterConfig"];
            if !lp {
                actions.extend([
                    "eks:AssociateAccessPolicy",
                    "eks:CreateAccessEntry",
                    "eks:ListAccessEntries",
                    "eks:ListClusters",
                ]);
            }
            actions.sort_unstable();
            vec![allow("DiscoverClusters", &actions, json!("*"))]
        }
        RoleKey::SensitiveDataDiscovery if lp => vec![allow_if(
            "DecryptS3Objects",
            &["kms:Decrypt"],
            json!("*"),
            json!({"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}),
        )],
        RoleKey::SensitiveDataDiscovery => {
            vec![allow("DecryptS3Objects", &["kms:Decrypt"], json!("*"))]
        }
        RoleKey::DataSecurityPostureDb => dspm(lp),
        RoleKey::CiemOidc => vec![allow(
            "AssumeDiscoveryRole",
            &["sts:AssumeRole"],
            json!(format!("arn:aws:iam::*:role/{}", names(RoleKey::Ciem))),
        )],
        // CloudTrail writes to <bucket>/AWSLogs/<account>/CloudTrail/ (OUR CHOICE to scope
        // least privilege by that key layout, as bucket names are unknown).
        RoleKey::Ciem => {
            let objects = if lp {
                json!("arn:aws:s3:::*/AWSLogs/*/CloudTrail/*")
            } else {
                json!("*")
            };
            vec![
                allow(
                    "ReadTrails",
                    &[
                        "cloudtrail:DescribeTrails",
                        "cloudtrail:GetTrail",
                        "cloudtrail:GetTrailStatus",
                        "s3:GetBucketLocation",
                        "s3:ListBucket",
                    ],
                    json!("*"),
                ),
                allow("ReadTrailObjects", &["s3:GetObject"], objects),
            ]
        }
    };
    Some(doc(statements))
}

/// Agentless scanning copies EBS snapshots with Defender-owned KMS keys (OUR CHOICE: least
/// privilege only touches snapshots tagged by Defender and uses KMS only through EC2).
fn scanner(lp: bool) -> Vec<Json> {
    let describe = allow(
        "DescribeDisks",
        &[
            "ec2:DescribeInstances",
            "ec2:DescribeSnapshots",
            "ec2:DescribeVolumes",
            "kms:DescribeKey",
            "kms:ListKeys",
        ],
        json!("*"),
    );
    let create = allow(
        "CreateSnapshots",
        &[
            "ec2:CopySnapshot",
            "ec2:CreateSnapshot",
            "ec2:CreateSnapshots",
            "ec2:CreateTags",
        ],
        json!("*"),
    );
    let own = ["ec2:DeleteSnapshot", "ec2:ModifySnapshotAttribute"];
    let kms = [
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    ];
    if lp {
        vec![
            describe,
            create,
            allow_if(
                "ManageOwnSnapshots",
                &own,
                json!("*"),
                json!({"StringLike": {DEFENDER_TAG: "*"}}),
            ),
            allow_if(
                "UseKeysThroughEc2",
                &kms,
                json!("*"),
                json!({"StringLike": {"kms:ViaService": "ec2.*.amazonaws.com"}}),
            ),
        ]
    } else {
        vec![
            describe,
            create,
            allow("ManageSnapshots", &own, json!("*")),
            allow("UseKeys", &kms, json!("*")),
            allow(
                "ManageScanKeys",
                &[
                    "kms:CreateKey",
                    "kms:EnableKeyRotation",
                    "kms:GetKeyPolicy",
                    "kms:PutKeyPolicy",
                    "kms:TagResource",
                ],
                json!("*"),
            ),
        ]
    }
}

/// Database posture copies RDS snapshots and shares them, encrypted with Defender-tagged keys.
fn dspm(lp: bool) -> Vec<Json> {
    let read = allow(
        "DescribeDatabases",
        &[
            "kms:ListAliases",
            "rds:DescribeDBClusterSnapshots",
            "rds:DescribeDBClusters",
            "rds:DescribeDBInstances",
            "rds:DescribeDBSnapshots",
        ],
        json!("*"),
    );
    let copy = allow(
        "CopySnapshots",
        &[
            "kms:CreateAlias",
            "kms:CreateKey",
            "kms:TagResource",
            "rds:AddTagsToResource",
            "rds:CopyDBClusterSnapshot",
            "rds:CopyDBSnapshot",
        ],
        json!("*"),
    );
    let own = [
        "kms:CreateGrant",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:PutKeyPolicy",
        "rds:DeleteDBClusterSnapshot",
        "rds:DeleteDBSnapshot",
        "rds:ModifyDBClusterSnapshotAttribute",
        "rds:ModifyDBSnapshotAttribute",
    ];
    if lp {
        vec![
            read,
            copy,
            allow_if(
                "ManageOwnCopies",
                &own,
                json!("*"),
                json!({"StringLike": {DEFENDER_TAG: "*"}}),
            ),
        ]
    } else {
        vec![read, copy, allow("ManageCopies", &own, json!("*"))]
    }
}
