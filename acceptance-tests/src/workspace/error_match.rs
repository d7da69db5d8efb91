//! Whitespace-tolerant matching of Terraform's diagnostics: line wrapping and the `│`
//! framing must not break a pattern a test expects.

/// Removes Terraform's diagnostic framing and collapses whitespace.
pub(super) fn normalize_output(text: &str) -> String {
    let unframed: String = text
        .chars()
        .map(|c| {
            if matches!(c, '│' | '╷' | '╵') {
                ' '
            } else {
                c
            }
        })
        .collect();
    unframed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lets every whitespace run in a pattern match any whitespace run.
pub(super) fn normalize_pattern(pattern: &str) -> String {
    pattern.split_whitespace().collect::<Vec<_>>().join(r"\s+")
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn wrapped_diagnostics_match_whitespace_tolerant_patterns() {
        let output = "╷\n│ Error: A resource with the ID \"/x\" already exists - to be managed\n│ via Terraform this resource needs to be imported into the State.\n╵\n";
        let re = Regex::new(&normalize_pattern(
            "to be managed via Terraform this resource needs to be imported",
        ))
        .expect("pattern");
        assert!(re.is_match(&normalize_output(output)));
        let other = Regex::new(&normalize_pattern("needs to be deleted")).expect("pattern");
        assert!(!other.is_match(&normalize_output(output)));
    }
}
