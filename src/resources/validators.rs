//! Plan-time checks shared by every resource: each returns the fix as text, so the
//! caller can attach it to the attribute path that holds the bad value.

/// Checks an Entra ID / Azure identifier (tenant, subscription, client) is a GUID.
pub(crate) fn guid(value: &str) -> Result<(), String> {
    let groups: Vec<&str> = value.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let shaped = groups.len() == lengths.len()
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    if shaped {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a GUID; expected the form 00000000-0000-0000-0000-000000000000 \
             (find it in the Azure portal under the tenant, subscription or app registration overview)"
        ))
    }
}

/// Checks an absolute `https://` URL with a host; ARM and Entra ID refuse bearer tokens over plain http.
pub(crate) fn https_url(value: &str) -> Result<(), String> {
    match value.strip_prefix("https://") {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(format!(
            "{value:?} is not an https URL; Azure endpoints must look like https://management.azure.com/"
        )),
    }
}

/// Checks an absolute `http://` or `https://` URL with a host (AWS endpoint overrides may be plain http,
/// for example a local emulator).
pub(crate) fn http_url(value: &str) -> Result<(), String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(format!(
            "{value:?} is not a URL; expected http(s)://host[:port][/path], for example https://iam.amazonaws.com"
        )),
    }
}

/// Checks an AWS region name such as `us-east-1` or `us-gov-west-1`.
pub(crate) fn aws_region(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split('-').collect();
    let shaped = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if shaped {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not an AWS region name; expected something like us-east-1 or eu-west-2"
        ))
    }
}

/// Checks an IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<path/name>`.
pub(crate) fn iam_role_arn(value: &str) -> Result<(), String> {
    let fields: Vec<&str> = value.splitn(6, ':').collect();
    let ok = fields.len() == 6
        && fields[0] == "arn"
        && fields[1].starts_with("aws")
        && fields[2] == "iam"
        && fields[3].is_empty()
        && aws_account_id(fields[4]).is_ok()
        && fields[5]
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not an IAM role ARN; expected arn:aws:iam::123456789012:role/RoleName"
        ))
    }
}

/// Checks an AWS account id: exactly 12 digits, as written in ARNs (leading zeros kept).
pub(crate) fn aws_account_id(value: &str) -> Result<(), String> {
    if value.len() == 12 && value.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not an AWS account id; it must be exactly 12 digits, for example \"123456789012\""
        ))
    }
}

/// Checks an Azure resource provider namespace such as `Microsoft.Security`.
pub(crate) fn rp_namespace(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split('.').collect();
    let ok = parts.len() >= 2
        && parts.iter().all(|p| {
            p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && p.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a resource provider namespace; expected something like Microsoft.Security"
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        assert!(guid("72f988bf-86f1-41af-91ab-2d7cd011db47").is_ok());
        assert!(guid("72F988BF-86F1-41AF-91AB-2D7CD011DB47").is_ok());
        for bad in [
            "",
            "72f988bf86f141af91ab2d7cd011db47",
            "72f988bf-86f1-41af-91ab-2d7cd011db4g",
            "x-y-z-w-v",
        ] {
            let err = guid(bad).unwrap_err();
            assert!(err.contains("not a GUID"), "{bad}: {err}");
        }
    }

    #[test]
    fn urls() {
        assert!(https_url("https://management.azure.com/").is_ok());
        assert!(https_url("https://127.0.0.1:8443").is_ok());
        assert!(https_url("http://management.azure.com/").is_err());
        assert!(https_url("https://").is_err());
        assert!(https_url("management.azure.com").is_err());
        assert!(http_url("http://127.0.0.1:5000").is_ok());
        assert!(http_url("ftp://x").is_err());
        assert!(http_url("http:///path").is_err());
    }

    #[test]
    fn regions() {
        for ok in ["us-east-1", "eu-west-2", "us-gov-west-1", "ap-southeast-3"] {
            assert!(aws_region(ok).is_ok(), "{ok}");
        }
        for bad in ["", "us-east", "US-EAST-1", "useast1", "us-east-1a", "us--1"] {
            assert!(aws_region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arns_and_accounts() {
        assert!(iam_role_arn("arn:aws:iam::123456789012:role/CspmMonitorAws").is_ok());
        assert!(iam_role_arn("arn:aws-us-gov:iam::123456789012:role/path/x").is_ok());
        for bad in [
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:s3::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
            "role/x",
        ] {
            assert!(iam_role_arn(bad).is_err(), "{bad}");
        }
        assert!(aws_account_id("012345678901").is_ok());
        assert!(aws_account_id("12345678901").is_err());
        assert!(aws_account_id("12345678901a").is_err());
    }

    #[test]
    fn namespaces() {
        assert!(rp_namespace("Microsoft.Security").is_ok());
        assert!(rp_namespace("Microsoft.HybridConnectivity").is_ok());
        for bad in [
            "Microsoft",
            "Microsoft.",
            ".Security",
            "Microsoft.Sec-urity",
            "",
        ] {
            assert!(rp_namespace(bad).is_err(), "{bad}");
        }
    }
}
