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

/// Checks an Azure resource group name: 1 to 90 letters, digits, `_`, `-`, `.`, `(` or `)`, not
/// ending with a period (ARM's rule).
pub(crate) fn resource_group_name(value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.chars().count() <= 90
        && !value.ends_with('.')
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a resource group name; use 1 to 90 letters, digits, underscores, hyphens, \
             periods or parentheses, not ending with a period"
        ))
    }
}

/// Checks the shape of an Azure location (`westeurope` or its display name `West Europe`).
pub(crate) fn azure_location(value: &str) -> Result<(), String> {
    let canonical = super::locations::canonical(value);
    let ok = !canonical.is_empty()
        && canonical.len() <= 64
        && canonical
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not an Azure location; use a region name such as westeurope or eastus \
             (`az account list-locations -o table` lists them)"
        ))
    }
}

/// Azure regions of the national clouds (Azure Government, Azure operated by 21Vianet, and the
/// retired Azure Germany), by canonical name or prefix.
pub(crate) fn national_cloud_location(value: &str) -> Option<&'static str> {
    let canonical = super::locations::canonical(value);
    if ["usgov", "usdod", "ussec", "usnat"]
        .iter()
        .any(|p| canonical.starts_with(p))
    {
        Some("Azure Government")
    } else if canonical.starts_with("china") {
        Some("Microsoft Azure operated by 21Vianet")
    } else if canonical == "germanycentral" || canonical == "germanynortheast" {
        Some("Azure Germany")
    } else {
        None
    }
}

/// Checks Azure resource tags against ARM's limits: at most 50, names up to 512 characters
/// without `<>%&\?/`, values up to 256 characters.
pub(crate) fn azure_tag(name: &str, value: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 512 {
        return Err(format!("tag name {name:?} must be 1 to 512 characters"));
    }
    if let Some(c) = name.chars().find(|c| "<>%&\\?/".contains(*c)) {
        return Err(format!(
            "tag name {name:?} contains {c:?}, which Azure does not allow in tag names"
        ));
    }
    if value.chars().count() > 256 {
        return Err(format!(
            "the value of tag {name:?} is longer than 256 characters"
        ));
    }
    Ok(())
}

/// The most tags an Azure resource may carry.
pub(crate) const MAX_AZURE_TAGS: usize = 50;

/// Parses a duration as Terraform's `timeouts` write them: numbers with `h`, `m` or `s`, such
/// as `90s`, `10m` or `1h30m`.
pub(crate) fn duration(value: &str) -> Result<std::time::Duration, String> {
    let bad = || {
        format!(
            "{value:?} is not a duration; write it like 90s, 10m or 1h30m (hours, minutes, seconds)"
        )
    };
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in value.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() || value.trim().is_empty() {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs(total))
}

/// The `wait_timeout` attribute of a data source or resource that waits, or `default` when it
/// is not set.
pub(crate) fn wait_timeout(
    config: &crate::protocol::Value,
    default: std::time::Duration,
) -> Result<std::time::Duration, String> {
    match config.get("wait_timeout").as_str() {
        Some(text) => duration(text),
        None => Ok(default),
    }
}

/// Reports a `wait_timeout` that does not parse, on that attribute.
pub(crate) fn check_wait_timeout(
    config: &crate::protocol::Value,
    diags: &mut crate::protocol::Diagnostics,
) {
    // The default never fails to parse, so any one does here.
    if let Err(detail) = wait_timeout(config, std::time::Duration::ZERO) {
        diags.attribute_error(
            crate::protocol::AttrPath::root("wait_timeout"),
            "Invalid wait_timeout",
            detail,
        );
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

    #[test]
    fn resource_groups_and_locations() {
        for ok in ["rg", "rg-sec_01", "(rg).x", "Grupo-ñ"] {
            assert!(resource_group_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "rg.", "rg/x", "rg x", &"r".repeat(91)] {
            assert!(resource_group_name(bad).is_err(), "{bad}");
        }
        assert!(azure_location("West Europe").is_ok());
        assert!(azure_location("eastus2").is_ok());
        for bad in ["", "west-europe", "west_europe", "Zürich"] {
            assert!(azure_location(bad).is_err(), "{bad}");
        }
        assert_eq!(
            national_cloud_location("usgovvirginia"),
            Some("Azure Government")
        );
        assert_eq!(
            national_cloud_location("US DoD East"),
            Some("Azure Government")
        );
        assert_eq!(
            national_cloud_location("chinanorth3"),
            Some("Microsoft Azure operated by 21Vianet")
        );
        assert_eq!(
            national_cloud_location("germanycentral"),
            Some("Azure Germany")
        );
        // Public regions that only look similar.
        for public in ["germanywestcentral", "westus", "eastasia", "southcentralus"] {
            assert_eq!(national_cloud_location(public), None, "{public}");
        }
    }

    #[test]
    fn tags() {
        assert!(azure_tag("env", "prod").is_ok());
        assert!(azure_tag("", "x").is_err());
        assert!(azure_tag("a/b", "x").unwrap_err().contains("'/'"));
        assert!(azure_tag("k", &"v".repeat(257)).is_err());
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(duration("1h30m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "10", "m", "1d", "-1m", "1.5h"] {
            assert!(
                duration(bad).unwrap_err().contains("not a duration"),
                "{bad}"
            );
        }
    }
}
