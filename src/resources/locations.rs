//! How Azure locations are spelled: ARM answers with the canonical name (`westeurope`) while
//! users may write the display name (`West Europe`). Both connectors compare locations this
//! way, so that respelling one is neither a replacement in a plan nor drift after a read.

/// An Azure location in ARM's canonical form: `West Europe` and `westeurope` are the same.
pub(crate) fn canonical(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether two spellings name the same Azure location.
pub(crate) fn same(a: &str, b: &str) -> bool {
    canonical(a) == canonical(b)
}

/// The location a refreshed state keeps: the prior spelling while it names the location ARM
/// reports (so a display name in the configuration shows no drift), else ARM's.
pub(crate) fn as_written<'a>(prior: Option<&'a str>, remote: &'a str) -> &'a str {
    match prior {
        Some(p) if same(p, remote) => p,
        _ => remote,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_and_canonical_names_are_one_location() {
        assert_eq!(canonical("West Europe"), "westeurope");
        assert_eq!(canonical(" East US 2 "), "eastus2");
        assert!(same("West Europe", "westeurope"));
        assert!(same("EASTUS", "eastus"));
        assert!(!same("westeurope", "northeurope"));
        assert!(!same("eastus", "eastus2"));
    }

    #[test]
    fn a_read_keeps_the_prior_spelling_only_for_the_same_location() {
        assert_eq!(as_written(Some("West Europe"), "westeurope"), "West Europe");
        assert_eq!(
            as_written(Some("West Europe"), "northeurope"),
            "northeurope"
        );
        assert_eq!(as_written(None, "westeurope"), "westeurope");
    }
}
