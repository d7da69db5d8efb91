//! The project's moto extension closes the gaps issue 4 lists: each test shows one gap
//! closed against a live moto started through the launcher.

use crate::common::moto_alone::{organizations_call as organizations, start};

use acceptance_tests::{Moto, skip_unless_acc};
use serde_json::json;

fn create_provider(moto: &Moto, url: &str, client_id: &str) -> String {
    let xml = moto.query(
        "iam",
        "CreateOpenIDConnectProvider",
        &[("Url", url), ("ClientIDList.member.1", client_id)],
    );
    let start = xml
        .find("<OpenIDConnectProviderArn>")
        .expect("arn in response")
        + 26;
    let end = xml.find("</OpenIDConnectProviderArn>").expect("arn end");
    xml[start..end].to_string()
}

fn web_identity_trust(provider_arn: &str, key: &str, aud: &str, session: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {format!("{key}:aud"): aud, "sts:RoleSessionName": session}}
        }]
    })
    .to_string()
}

fn token(issuer: &str, aud: &str) -> String {
    acceptance_tests::web_identity_token(issuer, aud)
}

#[test]
fn acc_moto_ext_oidc_client_id_actions() {
    skip_unless_acc!();
    let (moto, _dir) = start();
    let arn = create_provider(&moto, "https://issuer.example/tenant/", "aud-a");
    moto.query(
        "iam",
        "AddClientIDToOpenIDConnectProvider",
        &[("OpenIDConnectProviderArn", &arn), ("ClientID", "aud-b")],
    );
    // Adding a present id is a no-op in IAM.
    moto.query(
        "iam",
        "AddClientIDToOpenIDConnectProvider",
        &[("OpenIDConnectProviderArn", &arn), ("ClientID", "aud-b")],
    );
    assert_eq!(moto.iam_oidc_client_ids(&arn), ["aud-a", "aud-b"]);
    moto.query(
        "iam",
        "RemoveClientIDFromOpenIDConnectProvider",
        &[("OpenIDConnectProviderArn", &arn), ("ClientID", "aud-a")],
    );
    assert_eq!(moto.iam_oidc_client_ids(&arn), ["aud-b"]);
    moto.query(
        "iam",
        "UpdateOpenIDConnectProviderThumbprint",
        &[
            ("OpenIDConnectProviderArn", &arn),
            ("ThumbprintList.member.1", &"a".repeat(40)),
        ],
    );
    let missing = arn.replace("tenant", "other");
    let (status, body) = moto.query_status(
        "iam",
        "AddClientIDToOpenIDConnectProvider",
        &[("OpenIDConnectProviderArn", &missing), ("ClientID", "x")],
    );
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("<Code>NoSuchEntity</Code>"), "{body}");
}

#[test]
fn acc_moto_ext_cloudformation_oidc_provider_and_role() {
    skip_unless_acc!();
    let (moto, _dir) = start();
    let role = |condition: serde_json::Value, managed: &str, inline: bool| {
        let mut props = json!({
            "RoleName": "cfn-role",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Federated": {"Ref": "Provider"}},
                "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]},
            "ManagedPolicyArns": [managed],
        });
        if inline {
            props["Policies"] = json!([{"PolicyName": "inline", "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]);
        }
        json!({"Resources": {
            "Provider": {"Type": "AWS::IAM::OIDCProvider", "Properties": {
                "Url": "https://issuer.example/cfn/", "ClientIdList": ["aud-1"], "ThumbprintList": []}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": props}},
            "Outputs": {"ProviderArn": {"Value": {"Fn::GetAtt": ["Provider", "Arn"]}}}})
        .to_string()
    };
    let first = role(
        json!({"StringEquals": {"issuer.example/cfn/:aud": "aud-1"}}),
        "arn:aws:iam::aws:policy/SecurityAudit",
        true,
    );
    moto.query(
        "cloudformation",
        "CreateStack",
        &[("StackName", "trust"), ("TemplateBody", &first)],
    );
    let stacks = moto.query(
        "cloudformation",
        "DescribeStacks",
        &[("StackName", "trust")],
    );
    assert!(stacks.contains("CREATE_COMPLETE"), "{stacks}");
    let providers = moto.iam_oidc_provider_arns();
    assert_eq!(providers.len(), 1, "{providers:?}");
    assert!(providers[0].ends_with(":oidc-provider/issuer.example/cfn/"));
    assert!(
        stacks.contains(&providers[0]),
        "GetAtt Arn output: {stacks}"
    );
    assert_eq!(
        moto.iam_attached_policy_arns("cfn-role"),
        ["arn:aws:iam::aws:policy/SecurityAudit"]
    );
    assert_eq!(moto.iam_inline_policy_names("cfn-role"), ["inline"]);
    assert!(
        moto.iam_role_trust_policy("cfn-role")
            .contains(&providers[0])
    );

    let second = role(
        json!({"StringEquals": {"issuer.example/cfn/:aud": "aud-2"}}),
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        false,
    );
    moto.query(
        "cloudformation",
        "UpdateStack",
        &[("StackName", "trust"), ("TemplateBody", &second)],
    );
    let trust = moto.iam_role_trust_policy("cfn-role");
    assert!(
        trust.contains("aud-2") && !trust.contains("aud-1"),
        "{trust}"
    );
    assert_eq!(
        moto.iam_attached_policy_arns("cfn-role"),
        ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    );
    assert!(moto.iam_inline_policy_names("cfn-role").is_empty());

    moto.query("cloudformation", "DeleteStack", &[("StackName", "trust")]);
    assert!(moto.iam_role_names().is_empty());
    assert!(moto.iam_oidc_provider_arns().is_empty());
}

#[test]
fn acc_moto_ext_cloudformation_failures_roll_back() {
    skip_unless_acc!();
    let (moto, _dir) = start();
    let template = |managed: &str| {
        json!({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "cfn-fail",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
            "ManagedPolicyArns": [managed]}}}})
        .to_string()
    };
    // AWS accepts the stack and fails the resource; moto alone failed the CreateStack call.
    let bad = template("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere");
    moto.query(
        "cloudformation",
        "CreateStack",
        &[("StackName", "failing"), ("TemplateBody", &bad)],
    );
    let stacks = moto.query(
        "cloudformation",
        "DescribeStacks",
        &[("StackName", "failing")],
    );
    assert!(
        stacks.contains("<StackStatus>ROLLBACK_COMPLETE</StackStatus>"),
        "{stacks}"
    );
    assert!(stacks.contains("failed to create: [Role]"), "{stacks}");
    let events = moto.query(
        "cloudformation",
        "DescribeStackEvents",
        &[("StackName", "failing")],
    );
    assert!(
        events.contains("<ResourceStatus>CREATE_FAILED</ResourceStatus>"),
        "{events}"
    );
    assert!(
        events.contains("NoSuchPolicyAnywhere does not exist"),
        "{events}"
    );
    assert!(
        moto.iam_role_names().is_empty(),
        "the failed role is not left behind"
    );

    // An update that changes nothing is refused, as AWS refuses it.
    let good = template("arn:aws:iam::aws:policy/SecurityAudit");
    moto.query(
        "cloudformation",
        "CreateStack",
        &[("StackName", "ok"), ("TemplateBody", &good)],
    );
    let (status, body) = moto.query_status(
        "cloudformation",
        "UpdateStack",
        &[("StackName", "ok"), ("TemplateBody", &good)],
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("No updates are to be performed."), "{body}");
}

#[test]
fn acc_moto_ext_create_stack_honours_the_request_token() {
    skip_unless_acc!();
    let (moto, _dir) = start();
    let body = r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#;
    let create = |token: &str| {
        moto.query_status(
            "cloudformation",
            "CreateStack",
            &[
                ("StackName", "retried"),
                ("TemplateBody", body),
                ("ClientRequestToken", token),
            ],
        )
    };
    let id = |xml: &str| {
        xml.split("<StackId>")
            .nth(1)
            .and_then(|rest| rest.split("</StackId>").next())
            .map(str::to_owned)
    };
    let (status, first) = create("token-1");
    assert_eq!(status, 200, "{first}");
    // The SDK's retry of a request whose answer was lost: the same stack, not an error.
    let (status, again) = create("token-1");
    assert_eq!(status, 200, "{again}");
    assert_eq!(id(&again), id(&first));
    assert!(id(&first).is_some(), "{first}");
    // Another request for the same name is a second stack, which AWS refuses.
    let (status, other) = create("token-2");
    assert_eq!(status, 400, "{other}");
    assert!(other.contains("AlreadyExistsException"), "{other}");
}

#[test]
fn acc_moto_ext_web_identity_is_validated() {
    skip_unless_acc!();
    let (moto, _dir) = start();
    let issuer = "https://issuer.example/wi/";
    let arn = create_provider(&moto, issuer, "aud-ok");
    let trust = web_identity_trust(&arn, "issuer.example/wi/", "aud-ok", "Session_1");
    moto.query(
        "iam",
        "CreateRole",
        &[("RoleName", "wi"), ("AssumeRolePolicyDocument", &trust)],
    );
    let role_arn = format!("arn:aws:iam::{}:role/wi", moto.account_id());
    let assume = |aud: &str, session: &str| {
        moto.query_status(
            "sts",
            "AssumeRoleWithWebIdentity",
            &[
                ("RoleArn", &role_arn),
                ("RoleSessionName", session),
                ("WebIdentityToken", &token(issuer, aud)),
            ],
        )
    };
    let (status, body) = assume("aud-wrong", "Session_1");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>InvalidIdentityToken</Code>"), "{body}");
    assert!(body.contains("Incorrect token audience"), "{body}");

    let (status, body) = assume("aud-ok", "Other_Session");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(body.contains("Not authorized to perform sts:AssumeRoleWithWebIdentity"));

    let (status, body) = moto.query_status(
        "sts",
        "AssumeRoleWithWebIdentity",
        &[
            ("RoleArn", &role_arn),
            ("RoleSessionName", "Session_1"),
            (
                "WebIdentityToken",
                &token("https://unknown.example/", "aud-ok"),
            ),
        ],
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("No OpenIDConnect provider found"), "{body}");

    let (status, body) = assume("aud-ok", "Session_1");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<AccessKeyId>"), "{body}");
}

#[test]
fn acc_moto_ext_throttling_injection() {
    skip_unless_acc!();
    let (moto, _dir) = start();
    moto.reset_calls();
    let rule = moto.add_fault(json!({"service": "iam", "action": "ListRoles", "count": 2}));
    assert_eq!(rule["remaining"], 2);
    for _ in 0..2 {
        let (status, body) = moto.query_status("iam", "ListRoles", &[]);
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("<Code>Throttling</Code>"), "{body}");
        assert!(body.starts_with("<ErrorResponse"), "{body}");
    }
    let (status, body) = moto.query_status("iam", "ListRoles", &[]);
    assert_eq!(status, 200, "fault must stop after its count: {body}");
    // Other actions of the service were never affected.
    assert_eq!(
        moto.query_status("iam", "ListOpenIDConnectProviders", &[])
            .0,
        200
    );
    assert_eq!(moto.call_count("iam", "ListRoles"), 3);

    // JSON-protocol services get their own error shape.
    moto.add_fault(json!({"service": "organizations", "count": 1}));
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    let call = || {
        http.post(format!("{}/", moto.url()))
            .header("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
            .header("Content-Type", "application/x-amz-json-1.1")
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body("{}")
            .send()
            .expect("organizations call")
    };
    let resp = call();
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().expect("JSON error body");
    assert_eq!(body["__type"], "ThrottlingException");
    let body: serde_json::Value = call().json().expect("JSON body");
    assert_ne!(body["__type"], "ThrottlingException", "{body}");

    moto.clear_faults();
    assert_eq!(moto.faults(), json!([]));
}

/// An IAM Query call that may fail at the transport level (dropped or timed-out connection).
fn raw_iam(
    moto: &Moto,
    timeout: std::time::Duration,
    params: &str,
) -> Result<(u16, String), reqwest::Error> {
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .expect("http client");
    let resp = http
        .post(format!("{}/", moto.url()))
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("Version=2010-05-08&{params}"))
        .send()?;
    let status = resp.status().as_u16();
    Ok((status, resp.text()?))
}

#[test]
fn acc_moto_ext_dropped_and_slow_answers() {
    skip_unless_acc!();
    let (moto, _dir) = start();
    let long = std::time::Duration::from_secs(30);

    // Dropped before processing: no answer, and nothing happened.
    moto.add_fault(json!({"service": "iam", "action": "CreateRole", "count": 1, "drop": true}));
    let create = "Action=CreateRole&RoleName=dropped&AssumeRolePolicyDocument=%7B%7D";
    assert!(
        raw_iam(&moto, long, create).is_err(),
        "the answer must be withheld"
    );
    assert!(moto.iam_role_names().is_empty());

    // Dropped after processing: no answer, but the role exists.
    moto.add_fault(
        json!({"service": "iam", "action": "CreateRole", "count": 1, "drop_after": true}),
    );
    assert!(
        raw_iam(&moto, long, create).is_err(),
        "the answer must be withheld"
    );
    assert_eq!(moto.iam_role_names(), ["dropped"]);

    // Slower than the client's timeout: the client gives up, the call still takes effect.
    moto.add_fault(json!({"service": "iam", "action": "CreateRole", "count": 1, "delay_ms": 1500}));
    let slow = "Action=CreateRole&RoleName=slow&AssumeRolePolicyDocument=%7B%7D";
    let err = raw_iam(&moto, std::time::Duration::from_millis(300), slow)
        .expect_err("the client times out");
    assert!(err.is_timeout(), "{err}");
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let mut roles = moto.iam_role_names();
    roles.sort();
    assert_eq!(roles, ["dropped", "slow"]);

    // Rules are spent: the next call is answered at once.
    let started = std::time::Instant::now();
    let (status, _) = raw_iam(&moto, long, "Action=ListRoles").expect("answered");
    assert_eq!(status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn acc_moto_ext_self_check_passes() {
    skip_unless_acc!();
    let (moto, _dir) = start();
    let report = moto.self_check();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["moto_version"], "5.2.5");
    let patches = report["patches"].as_array().cloned().unwrap_or_default();
    for p in [
        "iam_oidc",
        "cfn_iam",
        "cfn_request_tokens",
        "cfn_stack_failures",
        "cfn_stacksets",
        "sts_web_identity",
        "faults",
        "org_scale",
        "cfn_autodeploy",
        "rate_model",
    ] {
        assert!(patches.iter().any(|x| x == p), "{p} missing from {report}");
    }
    // AWS-managed policies are loaded (templates attach them by ARN).
    let (status, body) = moto.query_status(
        "iam",
        "GetPolicy",
        &[("PolicyArn", "arn:aws:iam::aws:policy/SecurityAudit")],
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn acc_moto_ext_organization_seeding() {
    skip_unless_acc!();
    let (moto, _dir) = start();
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    let seed = |body: serde_json::Value| {
        let resp = http
            .post(format!("{}/_mcloud/organizations/accounts", moto.url()))
            .json(&body)
            .send()
            .expect("seed call");
        (resp.status().as_u16(), resp.text().unwrap_or_default())
    };
    let (status, text) = seed(json!({"count": 2}));
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("CreateOrganization first"), "{text}");

    let (status, org) = organizations(&moto, "CreateOrganization", json!({"FeatureSet": "ALL"}));
    assert_eq!(status, 200, "{org}");
    let (_, roots) = organizations(&moto, "ListRoots", json!({}));
    let root = roots["Roots"][0]["Id"]
        .as_str()
        .expect("root id")
        .to_owned();
    let (_, ou) = organizations(
        &moto,
        "CreateOrganizationalUnit",
        json!({"ParentId": root, "Name": "workloads"}),
    );
    let ou = ou["OrganizationalUnit"]["Id"]
        .as_str()
        .expect("OU id")
        .to_owned();

    let seeded = moto.seed_accounts(3, &[&root, &ou]);
    assert_eq!(seeded.root_id, root);
    assert_eq!(seeded.management_account_id, moto.account_id());
    let parents: Vec<&str> = seeded
        .accounts
        .iter()
        .map(|a| a.parent_id.as_str())
        .collect();
    assert_eq!(parents, [&root, &ou, &root], "round-robin over the parents");
    assert_eq!(seeded.accounts[1].name, "member-1");
    // Seeded accounts are ordinary members: listed under their parent, described by id.
    let (_, listed) = organizations(&moto, "ListAccountsForParent", json!({"ParentId": ou}));
    assert_eq!(
        listed["Accounts"][0]["Id"],
        seeded.accounts[1].id.as_str(),
        "{listed}"
    );
    let (status, described) = organizations(
        &moto,
        "DescribeAccount",
        json!({"AccountId": seeded.accounts[0].id}),
    );
    assert_eq!(status, 200, "{described}");
    assert_eq!(described["Account"]["Email"], "member-0@example.test");

    // Bad requests name the problem.
    for (body, needle) in [
        (json!({"count": 0}), "must be an integer from 1"),
        (
            json!({"count": 1, "parent_ids": ["ou-nope-12345678"]}),
            "no such parent",
        ),
        (json!({"count": 1, "name_prefix": ""}), "name_prefix"),
    ] {
        let (status, text) = seed(body);
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(needle), "{needle}: {text}");
    }
}
