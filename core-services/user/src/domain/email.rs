//! E-mail addresses, normalised to lower case so uniqueness ignores case.

/// Longest address SMTP allows.
const MAX_LENGTH: usize = 254;

/// A plausible, lower-cased e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Trims and lower-cases `raw`, then checks its shape: `local@domain.tld`, no spaces, at most 254 characters.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        // Bounded as sent, so that the document's `maxLength` means what it says (lower-casing can lengthen).
        if raw.chars().count() > MAX_LENGTH {
            return Err("must be at most 254 characters");
        }
        let email = Self::normalize(raw);
        if email.is_empty() {
            return Err("must not be empty");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("must be an e-mail address such as name@example.com");
        };
        let shaped = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
        if shaped {
            Ok(Self(email))
        } else {
            Err("must be an e-mail address such as name@example.com")
        }
    }

    /// The form addresses are stored and looked up in (for lookups of addresses that need not be valid).
    pub fn normalize(raw: &str) -> String {
        raw.trim().to_lowercase()
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_space() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").map(|e| e.0),
            Ok("ada@example.com".to_owned())
        );
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for raw in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@example.com",
            "a@.com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} should be refused");
        }
    }
}
