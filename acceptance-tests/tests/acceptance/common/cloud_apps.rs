//! What the Defender for Cloud Apps user scenarios share: configurations and checks of the
//! user, its policy and its keys through moto.

use acceptance_tests::Moto;
use regex::Regex;

pub(crate) const USER: &str = "multicloud_cloud_apps_aws_user.cloud_apps";
pub(crate) const USER_NAME: &str = "defender-cloud-apps";

/// A Cloud Apps user with `extra` attribute lines.
pub(crate) fn config(extra: &str) -> String {
    super::config(&format!(
        r#"
resource "multicloud_cloud_apps_aws_user" "cloud_apps" {{
  user_name = "{USER_NAME}"
{extra}
}}
"#
    ))
}

/// Every match of `pattern`'s first group in `xml`.
pub(crate) fn captures(xml: &str, pattern: &str) -> Vec<String> {
    let re = Regex::new(pattern).expect("pattern");
    re.captures_iter(xml).map(|c| c[1].to_owned()).collect()
}

/// The user's access key ids.
pub(crate) fn access_keys(moto: &Moto) -> Vec<String> {
    let xml = moto.query("iam", "ListAccessKeys", &[("UserName", USER_NAME)]);
    captures(&xml, r"<AccessKeyId>([^<]+)</AccessKeyId>")
}

/// The actions of the user's inline policy (URL-decoded JSON).
pub(crate) fn policy_actions(moto: &Moto, policy: &str) -> Vec<String> {
    let xml = moto.query(
        "iam",
        "GetUserPolicy",
        &[("UserName", USER_NAME), ("PolicyName", policy)],
    );
    let raw = captures(&xml, r"<PolicyDocument>([^<]+)</PolicyDocument>")
        .pop()
        .expect("policy document");
    let text = percent_decode(&raw);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("policy JSON");
    doc["Statement"][0]["Action"]
        .as_array()
        .expect("Action list")
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_owned())
        .collect()
}

fn percent_decode(s: &str) -> String {
    let s = s.replace("&quot;", "\"").replace("&amp;", "&");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The ARN STS answers for a call signed with `access_key_id`: moto names the key's user,
/// or its default identity for a key it does not know (deleted).
pub(crate) fn caller_arn(moto: &Moto, access_key_id: &str) -> String {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0"
    );
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/", moto.url()))
        .header("Authorization", auth)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("Action=GetCallerIdentity&Version=2011-06-15")
        .send()
        .expect("sts call");
    let xml = resp.text().expect("sts body");
    captures(&xml, r"<Arn>([^<]+)</Arn>")
        .pop()
        .unwrap_or_else(|| panic!("no Arn in {xml}"))
}

/// The user's ARN.
pub(crate) fn user_arn(moto: &Moto) -> String {
    format!("arn:aws:iam::{}:user/{USER_NAME}", moto.account_id())
}

/// The key id and secret from a secret file the provider wrote.
pub(crate) fn read_secret_file(path: &std::path::Path) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("secret file");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("Access key ID,Secret access key"));
    let (id, secret) = lines
        .next()
        .and_then(|l| l.split_once(','))
        .expect("key line");
    (id.to_owned(), secret.to_owned())
}
