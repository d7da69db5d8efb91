//! AWS client behaviour against a loopback mock STS endpoint answering Query/XML.

use super::*;
use crate::http::mock_server::{MockServer, Reply};
use crate::secret::Secret;
use std::time::Duration;

fn xml(status: u16, body: &str) -> Reply {
    Reply::Respond {
        status,
        headers: vec![("content-type".into(), "text/xml".into())],
        body: body.to_owned(),
    }
}

const IDENTITY: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/alice</Arn>
    <UserId>AIDAEXAMPLE</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>req-ok</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#;

fn role_credentials(op: &str, ak: &str) -> String {
    format!(
        r#"<{op}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{op}Result>
<Credentials><AccessKeyId>{ak}</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey><SessionToken>role-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>
</{op}Result><ResponseMetadata><RequestId>req-role</RequestId></ResponseMetadata></{op}Response>"#
    )
}

fn static_config(server: &MockServer) -> AwsConfig {
    AwsConfig {
        region: Some("eu-west-1".into()),
        access_key: Some("AKIDEXAMPLE".into()),
        secret_key: Some(Secret::new("static-secret-key")),
        endpoints: AwsEndpoints {
            sts: Some(server.base_url.clone()),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test]
async fn caller_identity_with_static_keys() {
    let server = MockServer::start().await;
    server.push(xml(200, IDENTITY));
    let clients = AwsClients::new(&static_config(&server)).await.unwrap();
    let id = clients.caller_identity().await.unwrap();
    assert_eq!(
        id,
        CallerIdentity {
            account_id: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            user_id: "AIDAEXAMPLE".into(),
        }
    );
    let r = &server.requests()[0];
    assert!(r.body.contains("Action=GetCallerIdentity"), "{}", r.body);
    let auth = r.header("authorization").unwrap();
    assert!(
        auth.contains("Credential=AKIDEXAMPLE/") && auth.contains("/eu-west-1/sts/"),
        "{auth}"
    );
    assert_eq!(clients.region(), "eu-west-1");
}

#[tokio::test]
async fn invalid_keys_name_the_code_not_the_secret() {
    let server = MockServer::start().await;
    server.push(xml(
        403,
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>req-bad</RequestId></ErrorResponse>"#,
    )
    .header("x-amzn-requestid", "req-bad"));
    let clients = AwsClients::new(&static_config(&server)).await.unwrap();
    let err = clients.caller_identity().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, AwsError::InvalidCredentials { .. }), "{text}");
    assert!(
        text.contains("InvalidClientTokenId") && text.contains("req-bad"),
        "{text}"
    );
    assert!(
        !text.contains("static-secret-key") && !format!("{err:?}").contains("static-secret-key")
    );
    assert_eq!(server.requests().len(), 1, "auth errors are not retried");
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk() {
    let server = MockServer::start().await;
    server.push(xml(
        400,
        r#"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>t</RequestId></ErrorResponse>"#,
    ));
    server.push(xml(200, IDENTITY));
    let clients = AwsClients::new(&static_config(&server)).await.unwrap();
    assert_eq!(
        clients.caller_identity().await.unwrap().account_id,
        "123456789012"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn unreachable_endpoint_is_named_and_fails_fast() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = AwsConfig {
        region: Some("us-east-1".into()),
        access_key: Some("AKID".into()),
        secret_key: Some(Secret::new("sk")),
        ..Default::default()
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    cfg.endpoints.sts = Some(endpoint.clone());
    let clients = AwsClients::new(&cfg).await.unwrap();
    let started = std::time::Instant::now();
    let err = clients.caller_identity().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, AwsError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains(&endpoint), "{err}");
}

#[tokio::test]
async fn web_identity_inline_token_then_caller_identity() {
    let server = MockServer::start().await;
    server.push(xml(
        200,
        &role_credentials("AssumeRoleWithWebIdentity", "ASIAWEB"),
    ));
    server.push(xml(200, IDENTITY));
    let cfg = AwsConfig {
        region: Some("us-east-1".into()),
        assume_role_with_web_identity: Some(WebIdentity {
            role_arn: "arn:aws:iam::123456789012:role/tfc".into(),
            ..Default::default()
        }),
        endpoints: AwsEndpoints {
            sts: Some(server.base_url.clone()),
            ..Default::default()
        },
        ..Default::default()
    }
    .with_env_fallbacks(|k| {
        (k == "TFC_WORKLOAD_IDENTITY_TOKEN").then(|| "tfc.jwt.token".to_owned())
    });
    let clients = AwsClients::new(&cfg).await.unwrap();
    clients.caller_identity().await.unwrap();
    let reqs = server.requests();
    assert!(
        reqs[0].body.contains("Action=AssumeRoleWithWebIdentity"),
        "{}",
        reqs[0].body
    );
    assert!(
        reqs[0].body.contains("WebIdentityToken=tfc.jwt.token"),
        "{}",
        reqs[0].body
    );
    assert!(
        reqs[0]
            .body
            .contains("RoleSessionName=terraform-provider-multicloud"),
        "{}",
        reqs[0].body
    );
    assert!(
        reqs[1]
            .header("authorization")
            .unwrap()
            .contains("Credential=ASIAWEB/")
    );
    assert_eq!(reqs[1].header("x-amz-security-token"), Some("role-token"));
}

#[tokio::test]
async fn assume_role_on_top_of_static_keys() {
    let server = MockServer::start().await;
    server.push(xml(200, &role_credentials("AssumeRole", "ASIAROLE")));
    server.push(xml(200, IDENTITY));
    let mut cfg = static_config(&server);
    cfg.assume_role = Some(AssumeRole {
        role_arn: "arn:aws:iam::123456789012:role/admin".into(),
        session_name: Some("sess".into()),
        external_id: Some("ext-1".into()),
        duration: Some(Duration::from_secs(900)),
    });
    let clients = AwsClients::new(&cfg).await.unwrap();
    clients.caller_identity().await.unwrap();
    let reqs = server.requests();
    let b = &reqs[0].body;
    for part in [
        "Action=AssumeRole",
        "RoleSessionName=sess",
        "ExternalId=ext-1",
        "DurationSeconds=900",
    ] {
        assert!(b.contains(part), "{b}");
    }
    assert!(
        reqs[0]
            .header("authorization")
            .unwrap()
            .contains("Credential=AKIDEXAMPLE/")
    );
    assert!(
        reqs[1]
            .header("authorization")
            .unwrap()
            .contains("Credential=ASIAROLE/")
    );
}

#[tokio::test]
async fn missing_credentials_map_to_a_helpful_error() {
    #[derive(Debug)]
    struct Nothing;
    impl aws_credential_types::provider::ProvideCredentials for Nothing {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            aws_credential_types::provider::future::ProvideCredentials::ready(Err(
                aws_credential_types::provider::error::CredentialsError::not_loaded(
                    "no providers in chain provided credentials",
                ),
            ))
        }
    }
    let server = MockServer::start().await;
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version_latest()
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Nothing)
        .endpoint_url(server.base_url.clone())
        .build();
    let err = aws_sdk_sts::Client::from_conf(conf)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    let mapped = AwsError::from_sdk(&err, "sts", "GetCallerIdentity", &server.base_url);
    assert!(matches!(mapped, AwsError::NoCredentials { .. }), "{mapped}");
    assert!(mapped.to_string().contains("AWS_ACCESS_KEY_ID"), "{mapped}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn half_static_keys_are_rejected() {
    let err = AwsClients::new(&AwsConfig {
        access_key: Some("AKID".into()),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(&err, AwsError::Config { attribute, .. } if attribute == "aws.secret_key"),
        "{err}"
    );
    let err = AwsClients::new(&AwsConfig {
        endpoints: AwsEndpoints {
            iam: Some("not a url".into()),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("aws.endpoints.iam"), "{err}");
}

/// Manual check against moto in server mode, e.g.
/// `MOTO_ENDPOINT=http://127.0.0.1:5055 cargo test -p terraform-provider-multicloud --lib moto -- --ignored`.
#[tokio::test]
#[ignore = "needs a moto server; set MOTO_ENDPOINT"]
async fn caller_identity_against_moto() {
    let endpoint = std::env::var("MOTO_ENDPOINT").expect("MOTO_ENDPOINT is set");
    let base = AwsConfig {
        region: Some("us-east-1".into()),
        endpoints: AwsEndpoints {
            sts: Some(endpoint.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let with_keys = AwsConfig {
        access_key: Some("AKIAIOSFODNN7EXAMPLE".into()),
        secret_key: Some(Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")),
        ..base.clone()
    };
    let id = AwsClients::new(&with_keys)
        .await
        .unwrap()
        .caller_identity()
        .await
        .unwrap();
    assert_eq!(id.account_id.len(), 12, "{id:?}");
    let web = AwsConfig {
        assume_role_with_web_identity: Some(WebIdentity {
            role_arn: format!("arn:aws:iam::{}:role/tfc", id.account_id),
            web_identity_token: Some(Secret::new("header.payload.signature")),
            ..Default::default()
        }),
        ..base
    };
    let assumed = AwsClients::new(&web)
        .await
        .unwrap()
        .caller_identity()
        .await
        .unwrap();
    assert!(assumed.arn.contains("assumed-role/tfc/"), "{assumed:?}");
}
