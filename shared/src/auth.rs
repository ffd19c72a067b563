//! Who is calling: JWT access tokens (EdDSA/Ed25519, chosen by `kid` from a key set), roles and the caller.

use std::collections::HashMap;
use std::time::Duration;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::AppError;

/// Default `iss` claim of QuickMart access tokens.
pub const DEFAULT_ISSUER: &str = "quickmart";
/// Lifetime of an access token.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// Clock skew tolerated between services.
const LEEWAY_SECS: u64 = 30;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// A shopper.
    Customer,
    /// Staff: manages the catalog, orders and users.
    Admin,
}

impl Role {
    /// The role as it travels in headers and tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "CUSTOMER",
            Self::Admin => "ADMIN",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "CUSTOMER" => Ok(Self::Customer),
            "ADMIN" => Ok(Self::Admin),
            other => Err(format!("unknown role `{other}` (expected CUSTOMER or ADMIN)")),
        }
    }
}

/// A signed-in user acting on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user's id.
    pub id: Uuid,
    /// The user's role.
    pub role: Role,
}

impl Actor {
    /// Whether the actor is staff.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Who is calling a subgraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No token was presented.
    Anonymous,
    /// A valid token was presented.
    User(Actor),
}

impl Caller {
    /// The signed-in actor, if any.
    pub fn actor(&self) -> Option<Actor> {
        match self {
            Self::Anonymous => None,
            Self::User(actor) => Some(*actor),
        }
    }

    /// Whether the caller is a signed-in admin.
    pub fn is_admin(&self) -> bool {
        self.actor().is_some_and(|a| a.is_admin())
    }
}

/// The claims of a QuickMart access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// The user id.
    pub sub: Uuid,
    /// The user's role when the token was minted.
    pub role: Role,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
    /// Unique token id.
    pub jti: String,
}

/// Why keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A PEM block is not an Ed25519 key.
    #[error("{variable}: not an Ed25519 {kind} key in PEM form ({reason})")]
    Invalid {
        /// The variable the key came from.
        variable: &'static str,
        /// `public` or `private`.
        kind: &'static str,
        /// The parser's reason.
        reason: String,
    },
    /// No key at all.
    #[error("{0}: no PEM key found")]
    Empty(&'static str),
}

/// The key id of a public key: the first 8 bytes of its SHA-256, in hex.
pub fn key_id(key: &VerifyingKey) -> String {
    Sha256::digest(key.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Verifies access tokens against a set of public keys (several during a rotation).
#[derive(Clone)]
pub struct JwtVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier").field("kids", &self.keys.keys().collect::<Vec<_>>()).finish()
    }
}

impl JwtVerifier {
    /// Loads one or more concatenated public-key PEMs (`JWT_PUBLIC_KEYS`).
    pub fn from_pems(pems: &str, issuer: &str) -> Result<Self, KeyError> {
        let mut keys = HashMap::new();
        for block in pem_blocks(pems) {
            let key = VerifyingKey::from_public_key_pem(&block).map_err(|e| KeyError::Invalid {
                variable: "JWT_PUBLIC_KEYS",
                kind: "public",
                reason: e.to_string(),
            })?;
            let decoding = DecodingKey::from_ed_pem(block.as_bytes()).map_err(|e| KeyError::Invalid {
                variable: "JWT_PUBLIC_KEYS",
                kind: "public",
                reason: e.to_string(),
            })?;
            keys.insert(key_id(&key), decoding);
        }
        if keys.is_empty() {
            return Err(KeyError::Empty("JWT_PUBLIC_KEYS"));
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Ok(Self { keys, validation })
    }

    /// Verifies a token: EdDSA only, a known `kid`, a valid signature, not expired, not issued in the
    /// future, the right issuer. Every failure is `UNAUTHENTICATED`.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let invalid = || AppError::Unauthenticated("the access token is invalid or expired".to_owned());
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::EdDSA {
            return Err(invalid());
        }
        let key = header.kid.as_deref().and_then(|kid| self.keys.get(kid)).ok_or_else(invalid)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|_| invalid())?.claims;
        if claims.iat > unix_now() + LEEWAY_SECS {
            return Err(invalid());
        }
        Ok(claims)
    }

    /// Authenticates a request from its `Authorization` header: no header is anonymous, a bad one fails.
    pub fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, AppError> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Ok(Caller::Anonymous);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::Unauthenticated("expected `Authorization: Bearer <token>`".to_owned()))?;
        let claims = self.verify(token)?;
        Ok(Caller::User(Actor { id: claims.sub, role: claims.role }))
    }
}

/// Mints access tokens with the user subgraph's private key.
pub struct JwtSigner {
    key: EncodingKey,
    kid: String,
    issuer: String,
    ttl: Duration,
}

impl JwtSigner {
    /// Loads the private key PEM (`JWT_PRIVATE_KEY`).
    pub fn from_pem(pem: &SecretString, issuer: &str, ttl: Duration) -> Result<Self, KeyError> {
        let invalid = |reason: String| KeyError::Invalid { variable: "JWT_PRIVATE_KEY", kind: "private", reason };
        let signing = SigningKey::from_pkcs8_pem(pem.expose_secret()).map_err(|e| invalid(e.to_string()))?;
        let key = EncodingKey::from_ed_pem(pem.expose_secret().as_bytes()).map_err(|e| invalid(e.to_string()))?;
        Ok(Self { key, kid: key_id(&signing.verifying_key()), issuer: issuer.to_owned(), ttl })
    }

    /// The key id this signer puts in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Lifetime of the tokens this signer mints.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Mints an access token for `actor`.
    pub fn sign(&self, actor: Actor) -> Result<String, AppError> {
        let iat = unix_now();
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: actor.id,
            role: actor.role,
            iat,
            exp: iat + self.ttl.as_secs(),
            jti: Uuid::now_v7().to_string(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(AppError::internal)
    }
}

/// A freshly generated Ed25519 key pair as PEMs: (private PKCS#8, public SPKI).
pub fn generate_key_pair() -> Result<(SecretString, String), KeyError> {
    let invalid = |reason: String| KeyError::Invalid { variable: "generated key", kind: "private", reason };
    let signing = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let private = signing.to_pkcs8_pem(LineEnding::LF).map_err(|e| invalid(e.to_string()))?;
    let public = signing.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|e| invalid(e.to_string()))?;
    Ok((SecretString::from(private.to_string()), public))
}

/// The public key PEM matching a private key PEM.
pub fn public_pem_of(private_pem: &SecretString) -> Result<String, KeyError> {
    let invalid = |reason: String| KeyError::Invalid { variable: "JWT_PRIVATE_KEY", kind: "private", reason };
    let signing = SigningKey::from_pkcs8_pem(private_pem.expose_secret()).map_err(|e| invalid(e.to_string()))?;
    signing.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|e| invalid(e.to_string()))
}

/// Splits concatenated PEM blocks.
fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with("-----BEGIN ") {
            current = Some(String::new());
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
        if line.starts_with("-----END ") {
            blocks.extend(current.take());
        }
    }
    blocks
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer_and_public() -> (JwtSigner, String) {
        let (private, public) = generate_key_pair().expect("keys");
        (JwtSigner::from_pem(&private, DEFAULT_ISSUER, ACCESS_TOKEN_TTL).expect("signer"), public)
    }

    #[test]
    fn a_signed_token_verifies_and_names_the_actor() {
        let (signer, public) = signer_and_public();
        let verifier = JwtVerifier::from_pems(&public, DEFAULT_ISSUER).expect("verifier");
        let actor = Actor { id: Uuid::now_v7(), role: Role::Admin };
        let claims = verifier.verify(&signer.sign(actor).expect("token")).expect("valid");
        assert_eq!((claims.sub, claims.role), (actor.id, actor.role));
    }

    #[test]
    fn rotation_accepts_every_key_of_the_set_and_nothing_else() {
        let (old, old_public) = signer_and_public();
        let (new, new_public) = signer_and_public();
        let (stranger, _) = signer_and_public();
        let verifier = JwtVerifier::from_pems(&format!("{new_public}\n{old_public}"), DEFAULT_ISSUER).expect("set");
        let actor = Actor { id: Uuid::now_v7(), role: Role::Customer };
        assert!(verifier.verify(&old.sign(actor).expect("token")).is_ok());
        assert!(verifier.verify(&new.sign(actor).expect("token")).is_ok());
        assert!(verifier.verify(&stranger.sign(actor).expect("token")).is_err());
    }

    #[test]
    fn wrong_issuer_is_refused() {
        let (private, public) = generate_key_pair().expect("keys");
        let signer = JwtSigner::from_pem(&private, "someone-else", ACCESS_TOKEN_TTL).expect("signer");
        let verifier = JwtVerifier::from_pems(&public, DEFAULT_ISSUER).expect("verifier");
        let actor = Actor { id: Uuid::now_v7(), role: Role::Customer };
        assert!(verifier.verify(&signer.sign(actor).expect("token")).is_err());
    }
}
