use super::*;

#[test]
fn trusted_access_check_names_the_fix() {
    let ok = check_trusted(
        &[
            "sso.amazonaws.com".to_owned(),
            STACKSETS_SERVICE_PRINCIPAL.to_owned(),
        ],
        STACKSETS_SERVICE_PRINCIPAL,
    );
    assert!(ok.is_ok());
    let err = check_trusted(
        &["sso.amazonaws.com".to_owned()],
        STACKSETS_SERVICE_PRINCIPAL,
    )
    .unwrap_err()
    .to_string();
    for part in [
        "You must enable organizations access to operate a service managed stack set",
        "aws organizations enable-aws-service-access --service-principal member.org.stacksets.cloudformation.amazonaws.com",
        "Activate trusted access",
    ] {
        assert!(err.contains(part), "{err}");
    }
}

#[test]
fn not_in_organization_is_its_own_error() {
    let e = refine(crate::aws::error::classify_service_error(
        "DescribeOrganization",
        "AWSOrganizationsNotInUseException".into(),
        "Your account is not a member of an organization.".into(),
        None,
    ));
    let text = e.to_string();
    assert!(matches!(e, AwsError::NotInOrganization { .. }), "{e:?}");
    assert!(text.contains("management account"), "{text}");
    let other = refine(crate::aws::error::classify_service_error(
        "ListRoots",
        "TooManyRequestsException".into(),
        "slow down".into(),
        None,
    ));
    assert!(matches!(other, AwsError::Throttled { .. }), "{other:?}");
}

#[test]
fn account_prefers_state_and_keeps_parent() {
    let a = aws_sdk_organizations::types::Account::builder()
        .id("111111111111")
        .name("a")
        .state(aws_sdk_organizations::types::AccountState::Suspended)
        .build();
    let acc = model::account(a, "ou-1").unwrap();
    assert_eq!(acc.status, "SUSPENDED");
    assert_eq!(acc.parent_id, "ou-1");
    assert!(
        model::account(
            aws_sdk_organizations::types::Account::builder().build(),
            "r"
        )
        .is_none()
    );
}
