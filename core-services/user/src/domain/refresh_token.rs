//! Opaque refresh tokens: 256 random bits shown once to the client, stored only as a SHA-256 hash (a fast hash
//! suffices: the token has full entropy, unlike a password).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// A refresh token as the client holds it.
pub struct RefreshToken(SecretString);

impl RefreshToken {
    /// A new random token.
    pub fn generate() -> Self {
        Self(SecretString::from(
            URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()),
        ))
    }

    /// A token a client presented.
    pub fn presented(token: SecretString) -> Self {
        Self(token)
    }

    /// What the database stores and looks up.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.expose_secret().as_bytes()).to_vec()
    }

    /// The token, to hand to the client once.
    pub fn into_secret(self) -> SecretString {
        self.0
    }
}
