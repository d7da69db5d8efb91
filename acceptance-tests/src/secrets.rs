//! Finding secrets where they must never be: CLI output, TF_LOG files, state.
//! A secret can leak encoded, so each one is searched for raw, URL-encoded
//! (path and form styles), JSON-escaped and base64-encoded at any alignment.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

/// One place where a secret was found. Deliberately holds no secret text, so
/// a failing test does not print it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHit {
    /// Which output or file contained it.
    pub location: String,
    /// Which encoding matched ("raw", "url-encoded", "base64", ...).
    pub form: &'static str,
    /// Index of the secret in the list passed to the scan.
    pub secret_index: usize,
    /// Byte offset of the match.
    pub offset: usize,
}

/// The encoded forms of `secret` worth searching for, with their names.
/// Forms equal to the raw secret are omitted; base64 forms are the
/// alignment-independent middle parts (so they match inside a longer blob).
pub fn secret_forms(secret: &str) -> Vec<(&'static str, String)> {
    let mut forms = vec![("raw", secret.to_string())];
    let mut push = |name: &'static str, form: String| {
        if !form.is_empty() && !forms.iter().any(|(_, f)| *f == form) {
            forms.push((name, form));
        }
    };
    push("url-encoded", percent_encode(secret, false));
    push("form-encoded", percent_encode(secret, true));
    push("json-escaped", json_escape(secret));
    for engine in [&STANDARD, &URL_SAFE] {
        for offset in 0..3 {
            if let Some(fragment) = base64_fragment(engine, secret.as_bytes(), offset) {
                push("base64", fragment);
            }
        }
    }
    forms
}

/// Searches every `(location, text)` for every form of every secret.
pub fn scan_for_secrets(texts: &[(String, String)], secrets: &[&str]) -> Vec<SecretHit> {
    let mut hits = Vec::new();
    for (secret_index, secret) in secrets.iter().enumerate() {
        assert!(
            secret.len() >= 8,
            "secret #{secret_index} is too short to scan for without false positives"
        );
        let forms = secret_forms(secret);
        for (location, text) in texts {
            for (form, needle) in &forms {
                if let Some(offset) = text.find(needle.as_str()) {
                    hits.push(SecretHit {
                        location: location.clone(),
                        form,
                        secret_index,
                        offset,
                    });
                }
            }
        }
    }
    hits
}

/// RFC 3986 unreserved characters stay, everything else is `%XX`; with
/// `form`, spaces become `+` as in `application/x-www-form-urlencoded`.
fn percent_encode(s: &str, form: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' if form => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn json_escape(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// The base64 characters determined by `secret` alone when it starts
/// `offset` bytes into a 3-byte group: the first and last partial groups
/// depend on neighbouring bytes and are cut off. `None` when too little is
/// left to be a meaningful needle.
fn base64_fragment(
    engine: &base64::engine::GeneralPurpose,
    secret: &[u8],
    offset: usize,
) -> Option<String> {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(secret);
    let encoded = engine.encode(&padded);
    let skip = if offset == 0 { 0 } else { 4 };
    let full_groups = padded.len() / 3;
    let end = full_groups * 4;
    if end <= skip + 8 {
        return None;
    }
    Some(encoded[skip..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t value/with+chars=";

    fn hits_in(text: &str) -> Vec<&'static str> {
        scan_for_secrets(&[("t".to_string(), text.to_string())], &[SECRET])
            .into_iter()
            .map(|h| h.form)
            .collect()
    }

    #[test]
    fn finds_raw_and_url_encoded_forms() {
        assert_eq!(hits_in(&format!("x={SECRET}&")), ["raw"]);
        assert!(hits_in("client_secret=s3cr3t+value%2Fwith%2Bchars%3D").contains(&"form-encoded"));
        assert!(hits_in("s3cr3t%20value%2Fwith%2Bchars%3D").contains(&"url-encoded"));
    }

    #[test]
    fn finds_base64_at_every_alignment_inside_longer_blobs() {
        for prefix in ["", "a", "ab", "abc:", "user:"] {
            for suffix in ["", "x", "xy"] {
                let blob = STANDARD.encode(format!("{prefix}{SECRET}{suffix}"));
                assert!(
                    hits_in(&format!("Authorization: Basic {blob}")).contains(&"base64"),
                    "missed base64 with prefix {prefix:?} suffix {suffix:?}"
                );
            }
        }
    }

    #[test]
    fn finds_json_escaped_form() {
        let secret = "quote\"and\\slash";
        let text = serde_json::json!({ "client_secret": secret }).to_string();
        let hits = scan_for_secrets(&[("t".into(), text)], &[secret]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].form, "json-escaped");
    }

    #[test]
    fn clean_text_has_no_hits_and_hits_do_not_echo_the_secret() {
        assert!(hits_in("nothing to see; s3cr3t valu").is_empty());
        let hit = &scan_for_secrets(&[("log".into(), SECRET.into())], &[SECRET])[0];
        assert!(!format!("{hit:?}").contains(SECRET));
    }
}
