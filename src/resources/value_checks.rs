//! More plan-time checks, found missing by the bad-input corpus: each returns the fix as text,
//! for the caller to attach to the attribute path that holds the bad value (as in
//! [`super::validators`]).

use std::ops::RangeInclusive;

use crate::protocol::{AttrPath, Diagnostics, Value};

/// Checks that a known number is a whole number in `range`; null and unknown pass.
pub(crate) fn whole_number_in(value: &Value, range: RangeInclusive<i64>) -> Result<(), String> {
    let Value::Number(n) = value else {
        return Ok(());
    };
    match n.as_i64() {
        Some(i) if range.contains(&i) => Ok(()),
        _ => Err(format!(
            "Got {n}; set a whole number from {} to {}.",
            range.start(),
            range.end()
        )),
    }
}

fn iam_chars(value: &str, extra: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

/// Checks an STS role session name: 2 to 64 letters, digits or `+=,.@-_`.
pub(crate) fn sts_session_name(value: &str) -> Result<(), String> {
    if (2..=64).contains(&value.len()) && iam_chars(value, "+=,.@-_") {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a role session name; use 2 to 64 letters, digits or +=,.@-_"
        ))
    }
}

/// Checks an STS external id: 2 to 1224 letters, digits or `+=,.@:/-_`.
pub(crate) fn sts_external_id(value: &str) -> Result<(), String> {
    if (2..=1224).contains(&value.len()) && iam_chars(value, "+=,.@:/-_") {
        Ok(())
    } else {
        Err(
            "the external id is not one STS accepts; use 2 to 1224 letters, digits or +=,.@:/-_"
                .to_owned(),
        )
    }
}

/// Checks an IAM user or role name (`what`): 1 to 64 letters, digits or `+=,.@_-`, not an ARN.
pub(crate) fn iam_name(value: &str, what: &str) -> Result<(), String> {
    if value.starts_with("arn:") {
        return Err(format!(
            "{value:?} is an ARN; give the IAM {what} name, the part after the last slash, \
             not the ARN"
        ));
    }
    if (1..=64).contains(&value.len()) && iam_chars(value, "+=,.@_-") {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not an IAM {what} name; use 1 to 64 letters, digits or +=,.@_-"
        ))
    }
}

/// Checks the ARM id of a classic connector:
/// `/subscriptions/<guid>/providers/Microsoft.Security/connectors/<name>`.
pub(crate) fn classic_connector_id(id: &str) -> Result<(), String> {
    let expected = "expected /subscriptions/<subscription id>/providers/Microsoft.Security/connectors/<name>, \
                    as data.multicloud_classic_connectors lists them";
    let segments: Vec<&str> = id.split('/').collect();
    match segments.as_slice() {
        ["", subs, sub, providers, ns, kind, name]
            if subs.eq_ignore_ascii_case("subscriptions")
                && providers.eq_ignore_ascii_case("providers")
                && ns.eq_ignore_ascii_case("Microsoft.Security")
                && kind.eq_ignore_ascii_case("connectors")
                && !name.is_empty() =>
        {
            super::validators::guid(sub).map_err(|e| format!("{id:?}: {e}"))
        }
        _ => Err(format!("{id:?} is not a classic connector id; {expected}")),
    }
}

/// Checks a path the provider writes a file to: not empty, not an existing directory.
pub(crate) fn writable_file_path(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("the path is empty; give a file path such as ./cloud-apps-key.csv".to_owned());
    }
    if std::path::Path::new(value).is_dir() {
        return Err(format!(
            "{value:?} is a directory; give a file path such as ./cloud-apps-key.csv"
        ));
    }
    Ok(())
}

/// Checks an IAM tag: key 1 to 128 characters without the reserved `aws:` prefix, value up to
/// 256, both of letters, digits, spaces and `_.:/=+-@`.
pub(crate) fn iam_tag(key: &str, value: &str) -> Result<(), String> {
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
    };
    if !(1..=128).contains(&key.chars().count()) {
        return Err(format!("tag key {key:?} must be 1 to 128 characters"));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!(
            "tag key {key:?} uses the prefix \"aws:\", which AWS reserves; rename the tag"
        ));
    }
    if value.chars().count() > 256 {
        return Err(format!(
            "the value of tag {key:?} is longer than 256 characters"
        ));
    }
    if !allowed(key) || !allowed(value) {
        return Err(format!(
            "tag {key:?} has characters IAM tags do not allow; use letters, digits, spaces and _.:/=+-@"
        ));
    }
    Ok(())
}

/// The most tags an IAM role or OIDC provider may carry.
pub(crate) const MAX_IAM_TAGS: usize = 50;

/// Checks a tag map against IAM's limits, reporting each bad tag at `tags["<key>"]`.
pub(crate) fn check_iam_tags(tags: &Value, diags: &mut Diagnostics) {
    let Some(map) = tags.as_map() else { return };
    if map.len() > MAX_IAM_TAGS {
        diags.attribute_error(
            AttrPath::root("tags"),
            "Too many tags",
            format!(
                "{} tags given; IAM allows at most {MAX_IAM_TAGS} per role or provider.",
                map.len()
            ),
        );
    }
    for (k, v) in map {
        if let Err(detail) = iam_tag(k, v.as_str().unwrap_or_default()) {
            diags.attribute_error(AttrPath::root("tags").key(k), "Invalid tag", detail);
        }
    }
}

/// A set attribute of fixed choices that, when set, must name at least one: an empty set
/// matches nothing, which is never what was meant, so it is reported instead of read as "all".
#[derive(Debug, Clone, Copy)]
pub(crate) struct Choices<'a> {
    /// The top-level set attribute.
    pub(crate) attribute: &'a str,
    /// The values it may hold.
    pub(crate) allowed: &'a [&'a str],
    /// Summary and detail for an empty set.
    pub(crate) empty: (&'a str, &'a str),
    /// Summary for a value outside `allowed`.
    pub(crate) unknown: &'a str,
}

impl Choices<'_> {
    /// Reports an empty set, and each known value outside the choices with `detail(value)`;
    /// an unset attribute passes.
    pub(crate) fn check(
        &self,
        config: &Value,
        diags: &mut Diagnostics,
        detail: impl Fn(&str) -> String,
    ) {
        let Value::Set(items) = config.get(self.attribute) else {
            return;
        };
        let path = || AttrPath::root(self.attribute);
        if items.is_empty() {
            diags.attribute_error(path(), self.empty.0, self.empty.1);
        }
        for item in items {
            if let Some(s) = item.as_str()
                && !self.allowed.contains(&s)
            {
                diags.attribute_error(path(), self.unknown, detail(s));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::Number;

    #[test]
    fn whole_numbers() {
        assert!(whole_number_in(&Value::from(3_i64), 1..=5).is_ok());
        assert!(whole_number_in(&Value::Null, 1..=5).is_ok());
        assert!(whole_number_in(&Value::Unknown, 1..=5).is_ok());
        let frac = Value::Number(Number::from_f64(2.5));
        assert!(whole_number_in(&frac, 1..=5).unwrap_err().contains("2.5"));
        assert!(whole_number_in(&Value::from(6_i64), 1..=5).is_err());
    }

    #[test]
    fn iam_names_and_ids() {
        assert!(iam_name("CspmMonitorAws", "role").is_ok());
        assert!(
            iam_name("arn:aws:iam::123456789012:role/x", "role")
                .unwrap_err()
                .contains("ARN")
        );
        assert!(iam_name("a b", "user").is_err());
        assert!(sts_session_name("terraform").is_ok());
        assert!(sts_session_name("x").is_err());
        assert!(sts_external_id("ab:c/d").is_ok());
        assert!(sts_external_id("a b").is_err());
        let id = "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Security/connectors/c";
        assert!(classic_connector_id(id).is_ok());
        assert!(classic_connector_id(&id.replace("/c", "/")).is_err());
        assert!(iam_tag("owner", "sec").is_ok());
        assert!(iam_tag("aws:x", "").is_err());
    }

    #[test]
    fn choices_report_an_empty_set_and_each_unknown_value() {
        let choices = Choices {
            attribute: "clouds",
            allowed: &["aws", "azure"],
            empty: ("No cloud", "name one"),
            unknown: "Unknown cloud",
        };
        let check = |config: &Value| {
            let mut diags = Diagnostics::new();
            choices.check(config, &mut diags, |v| format!("{v:?} is not a cloud"));
            diags.iter().cloned().collect::<Vec<_>>()
        };
        let with = |items: &[&str]| {
            let mut v = Value::object::<String>([]);
            v.set_attr("clouds", Value::string_set(items.iter().copied()));
            v
        };
        assert!(check(&Value::object::<String>([])).is_empty());
        assert!(check(&with(&["aws", "azure"])).is_empty());
        let empty = check(&with(&[]));
        assert_eq!(empty.len(), 1);
        assert_eq!(empty[0].summary, "No cloud");
        assert_eq!(empty[0].attribute, Some(AttrPath::root("clouds")));
        let unknown = check(&with(&["aws", "gcp", "oci"]));
        let details: Vec<&str> = unknown.iter().map(|d| d.detail.as_str()).collect();
        assert_eq!(
            details,
            ["\"gcp\" is not a cloud", "\"oci\" is not a cloud"]
        );
        assert!(unknown.iter().all(|d| d.summary == "Unknown cloud"));
    }
}
