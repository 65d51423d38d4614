//! Pseudonymous customer ids for a plan that leaves the shop: a keyed hash
//! (HMAC-SHA-256) of each id. The same key gives the same pseudonyms, so a
//! partner's results can be joined back by whoever holds the key; without it
//! the ids cannot be recovered or checked against a guess. The key is the
//! user's and is never written into an export.

use ring::hmac;

/// Keys shorter than this are refused: a short key can be guessed.
pub const MIN_KEY_BYTES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the pseudonymisation key is {0} bytes; use at least {MIN_KEY_BYTES} (a long random phrase)")]
    TooShort(usize),
}

pub struct Pseudonymiser {
    key: hmac::Key,
}

impl Pseudonymiser {
    /// A pseudonymiser for `key` (surrounding whitespace, such as a file's
    /// final newline, is not part of it).
    pub fn new(key: &[u8]) -> Result<Pseudonymiser, KeyError> {
        let key = key.trim_ascii();
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(key.len()));
        }
        Ok(Pseudonymiser { key: hmac::Key::new(hmac::HMAC_SHA256, key) })
    }

    /// "p" and the first 20 hex digits (80 bits) of HMAC-SHA-256(key, id):
    /// collisions are out of reach for any customer base.
    pub fn pseudonym(&self, id: &str) -> String {
        let tag = hmac::sign(&self.key, id.as_bytes());
        let mut out = String::with_capacity(21);
        out.push('p');
        for b in &tag.as_ref()[..10] {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_gives_the_same_pseudonyms_and_another_key_others() {
        let a = Pseudonymiser::new(b"correct horse battery staple\n").unwrap();
        let b = Pseudonymiser::new(b"correct horse battery staple").unwrap();
        let c = Pseudonymiser::new(b"another long secret phrase").unwrap();
        assert_eq!(a.pseudonym("100001"), b.pseudonym("100001"));
        assert_ne!(a.pseudonym("100001"), c.pseudonym("100001"));
        assert_ne!(a.pseudonym("100001"), a.pseudonym("100002"));
        assert_eq!(a.pseudonym("100001").len(), 21);
        assert!(!a.pseudonym("100001").contains("100001"));
    }

    #[test]
    fn matches_the_published_hmac_test_vector() {
        // RFC 4231, test case 1: key 20 × 0x0b, data "Hi There"; HMAC-SHA-256 begins b0344c61d8db38535ca8.
        let p = Pseudonymiser::new(&[0x0b; 20]).unwrap();
        assert_eq!(p.pseudonym("Hi There"), "pb0344c61d8db38535ca8");
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(matches!(Pseudonymiser::new(b"short"), Err(KeyError::TooShort(5))));
    }
}
