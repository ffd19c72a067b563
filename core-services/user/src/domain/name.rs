//! Display names.

/// Longest display name, in characters.
const MAX_LENGTH: usize = 100;

/// A trimmed, non-empty display name of at most 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    /// Trims `raw` and checks it is one line of 1 to 100 characters as sent.
    pub fn parse(raw: &str) -> Result<Self, String> {
        quickmart_shared::text::required_line(raw, MAX_LENGTH).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(UserName::parse("  Ada ").map(|n| n.0), Ok("Ada".to_owned()));
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse(&"x".repeat(101)).is_err());
    }
}
