//! GUID helpers: random ids for requests and operations, deterministic ones for principals.

use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};

fn format_guid(b: &[u8; 16]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Fills `buf` with OS randomness; the OS source failing is not recoverable for a test server.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    if SystemRandom::new().fill(buf).is_err() {
        // Fall back to a time-derived value rather than aborting a request: ids only need to be
        // unique within one run, never unpredictable.
        let seed = crate::clock::now_millis().to_le_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = seed[i % seed.len()] ^ (i as u8);
        }
    }
}

/// A random version-4 GUID.
pub(crate) fn random_guid() -> String {
    let mut b = [0u8; 16];
    random_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_guid(&b)
}

/// A name-based GUID (SHA-256 truncated, version bits 5): the same input always yields the same
/// object id, so tests can predict a client's `oid`.
pub(crate) fn stable_guid(namespace: &str, name: &str) -> String {
    let d = digest::digest(
        &digest::SHA256,
        format!("{namespace}\n{}", name.to_ascii_lowercase()).as_bytes(),
    );
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_guid(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_have_the_right_shape() {
        let g = random_guid();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        assert_ne!(g, random_guid());
        assert_eq!(stable_guid("oid", "ABC"), stable_guid("oid", "abc"));
        assert_ne!(stable_guid("oid", "abc"), stable_guid("oid", "abd"));
    }
}
