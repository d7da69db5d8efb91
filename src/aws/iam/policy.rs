//! Policy documents as IAM returns them: URL-encoded JSON.

use crate::aws::error::AwsError;
use percent_encoding::percent_decode_str;

/// Decodes a policy document from an IAM response. IAM percent-encodes documents (RFC 3986,
/// so `+` is a literal plus); a document that already starts with `{` is returned unchanged,
/// since decoding it would corrupt a literal `%` inside.
pub fn decode_policy_document(raw: &str) -> Result<String, AwsError> {
    if raw.trim_start().starts_with('{') {
        return Ok(raw.to_owned());
    }
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|e| AwsError::MissingField {
            operation: "decode policy document".into(),
            field: format!("a UTF-8 policy document ({e})"),
        })
}

/// Whether two policy documents are the same JSON value (key order and whitespace ignored),
/// so a document IAM re-serialised does not show as drift. Unparsable input compares as text.
pub fn policy_documents_equal(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
