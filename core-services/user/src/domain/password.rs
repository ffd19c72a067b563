//! Passwords: the policy, and Argon2id hashing off the async runtime.

use std::sync::Arc;

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use quickmart_shared::AppError;
use secrecy::{ExposeSecret, SecretString};

/// Shortest password accepted, in characters.
const MIN_LENGTH: usize = 10;
/// Longest password accepted, in characters (bounds the hashing work a request can cause).
const MAX_LENGTH: usize = 256;

/// Why a password breaks the policy (the message names no part of the password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Fewer than 10 characters.
    #[error("must be at least 10 characters long")]
    TooShort,
    /// More than 256 characters.
    #[error("must be at most 256 characters long")]
    TooLong,
    /// Every character of one class.
    #[error("must mix at least two kinds of characters (lower case, upper case, digits, symbols)")]
    OneClass,
}

/// A password that meets the policy.
pub struct Password(SecretString);

impl Password {
    /// Checks the policy: 10 to 256 characters, not all lower case, upper case, digits or symbols.
    pub fn parse(raw: SecretString) -> Result<Self, PasswordPolicyError> {
        let text = raw.expose_secret();
        let length = text.chars().count();
        if length < MIN_LENGTH {
            return Err(PasswordPolicyError::TooShort);
        }
        if length > MAX_LENGTH {
            return Err(PasswordPolicyError::TooLong);
        }
        let class = |c: char| {
            if c.is_lowercase() {
                0
            } else if c.is_uppercase() {
                1
            } else if c.is_numeric() {
                2
            } else {
                3
            }
        };
        let mut classes = text.chars().map(class);
        let first = classes.next();
        if classes.all(|c| Some(c) == first) {
            return Err(PasswordPolicyError::OneClass);
        }
        Ok(Self(raw))
    }

    /// The password's text, for hashing.
    fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// Hashes and verifies passwords with Argon2id on the blocking pool, and answers unknown accounts in about the
/// time a real check takes.
#[derive(Clone)]
pub struct PasswordHasher {
    /// A hash of a random password, verified against when an e-mail is unknown so both answers take as long.
    decoy: Arc<String>,
}

impl PasswordHasher {
    /// A hasher with Argon2's recommended parameters (Argon2id, 19 MiB, 2 passes, 1 lane); hashes its decoy.
    pub async fn new() -> Result<Self, AppError> {
        let random = SecretString::from(uuid::Uuid::new_v4().to_string());
        let decoy = hash_blocking(random).await?;
        Ok(Self { decoy: Arc::new(decoy) })
    }

    /// The PHC string of `password` (`$argon2id$v=19$…`).
    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        hash_blocking(password.secret().clone()).await
    }

    /// Whether `candidate` matches the PHC string `hash`; `None` verifies against the decoy and says no.
    pub async fn verify(&self, candidate: &SecretString, hash: Option<&str>) -> Result<bool, AppError> {
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.decoy.as_str().to_owned(), str::to_owned);
        let candidate = candidate.clone();
        let matches = tokio::task::spawn_blocking(move || {
            // The parameters come from the stored PHC string, so hashes made with older settings still verify.
            Argon2::default().verify_password(candidate.expose_secret().as_bytes(), hash.as_str()).is_ok()
        })
        .await
        .map_err(AppError::internal)?;
        Ok(known && matches)
    }
}

/// Argon2::default() is Argon2id, version 0x13, with the parameters OWASP recommends.
async fn hash_blocking(password: SecretString) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = rand::random::<[u8; 16]>();
        Argon2::default()
            .hash_password_with_salt(password.expose_secret().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::internal(format!("hashing failed: {e}")))
    })
    .await
    .map_err(AppError::internal)?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Password, PasswordPolicyError> {
        Password::parse(SecretString::from(raw.to_owned()))
    }

    #[test]
    fn policy() {
        assert_eq!(parse("Short1").err(), Some(PasswordPolicyError::TooShort));
        assert_eq!(parse("alllowercaseletters").err(), Some(PasswordPolicyError::OneClass));
        assert_eq!(parse("12345678901234").err(), Some(PasswordPolicyError::OneClass));
        assert_eq!(parse(&"aB".repeat(200)).err(), Some(PasswordPolicyError::TooLong));
        assert!(parse("correct horse battery").is_ok());
        assert!(parse("abcdefghi1").is_ok());
    }

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hasher = PasswordHasher::new().await.expect("hasher");
        let password = parse("Tr0ub4dor&3x").expect("valid");
        let hash = hasher.hash(&password).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        let right = SecretString::from("Tr0ub4dor&3x".to_owned());
        let wrong = SecretString::from("Tr0ub4dor&3y".to_owned());
        assert!(hasher.verify(&right, Some(&hash)).await.expect("verify"));
        assert!(!hasher.verify(&wrong, Some(&hash)).await.expect("verify"));
        assert!(!hasher.verify(&right, None).await.expect("decoy"));
    }
}
