//! `deployment = "cloudformation"` (work in progress in this commit series).

use crate::aws::{AwsClients, CallerIdentity};

use super::deploy_iam::Outcome;
use super::iam::StepError;
use super::schema::TrustConfig;
use super::state::Deployed;

fn pending() -> StepError {
    StepError {
        step: "deploying through CloudFormation".into(),
        error: Box::new(crate::aws::AwsError::Invalid {
            operation: "CreateStack".into(),
            code: "NotImplemented".into(),
            message: "not available yet".into(),
            request_id: None,
        }),
    }
}

pub(crate) async fn create(
    _: &AwsClients,
    _: &TrustConfig,
    _: &CallerIdentity,
    _: Option<&str>,
) -> Outcome {
    Outcome {
        deployed: None,
        error: Some(pending()),
    }
}
pub(crate) async fn read(
    _: &AwsClients,
    _: &TrustConfig,
    _: &Deployed,
) -> Result<Option<Deployed>, StepError> {
    Err(pending())
}
pub(crate) async fn update(
    _: &AwsClients,
    _: &TrustConfig,
    d: &Deployed,
    _: &TrustConfig,
) -> Outcome {
    Outcome {
        deployed: Some(d.clone()),
        error: Some(pending()),
    }
}
pub(crate) async fn delete(_: &AwsClients, _: &TrustConfig, _: &Deployed) -> Result<(), StepError> {
    Err(pending())
}
pub(crate) async fn import(
    _: &AwsClients,
    _: &str,
) -> Result<Option<(TrustConfig, Deployed)>, StepError> {
    Err(pending())
}
