//! Display names.

/// Longest display name, in characters.
const MAX_LENGTH: usize = 100;

/// A trimmed, non-empty display name of at most 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    /// Trims `raw` and checks its length; control characters are refused.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.trim();
        if name.is_empty() {
            Err("must not be empty")
        } else if name.chars().count() > MAX_LENGTH {
            Err("must be at most 100 characters")
        } else if name.chars().any(char::is_control) {
            Err("must not contain control characters")
        } else {
            Ok(Self(name.to_owned()))
        }
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
