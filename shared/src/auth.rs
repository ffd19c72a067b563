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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", graphql(rename_items = "SCREAMING_SNAKE_CASE"))]
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
            other => Err(format!(
                "unknown role `{other}` (expected CUSTOMER or ADMIN)"
            )),
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
    /// The account's token version when the token was minted; subgraphs refuse it once the account's current
    /// one is newer (a new role or password, or every session ended). Tokens from before it existed carry 0.
    #[serde(default)]
    pub ver: i64,
}

impl Claims {
    /// Who the token speaks for.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.sub,
            role: self.role,
        }
    }
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
    Sha256::digest(key.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Bytes of tokens (and their claims) a verifier remembers as verified; see [`JwtVerifier::verify`].
const VERIFIED_TOKEN_BYTES: u64 = 4 * 1024 * 1024;
/// A remembered token's share of that, besides its own length: its claims and the entry.
const VERIFIED_ENTRY_OVERHEAD: u32 = 160;

/// Verifies access tokens against a set of public keys (several during a rotation).
#[derive(Clone)]
pub struct JwtVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
    /// Tokens whose signature has been verified, with their claims (a bounded moka cache).
    verified: moka::sync::Cache<String, Claims>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
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
            let decoding =
                DecodingKey::from_ed_pem(block.as_bytes()).map_err(|e| KeyError::Invalid {
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
        let verified = moka::sync::Cache::builder()
            .max_capacity(VERIFIED_TOKEN_BYTES)
            .weigher(|token: &String, _: &Claims| {
                u32::try_from(token.len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(VERIFIED_ENTRY_OVERHEAD)
            })
            .time_to_idle(ACCESS_TOKEN_TTL)
            .build();
        Ok(Self {
            keys,
            validation,
            verified,
        })
    }

    /// Verifies a token: EdDSA only, a known `kid`, a valid signature, not expired, not issued in the
    /// future, the right issuer. Every failure is `UNAUTHENTICATED`.
    ///
    /// The signature check is the costliest step of a signed-in read (an Ed25519 verification, some 15 % of a
    /// storefront query's CPU across the three subgraphs), and a client sends the same token for 15 minutes, so
    /// a token that verified is remembered, byte for byte, with its claims (at most 4 MiB of them). A remembered
    /// token is still refused once it expires; an altered one is another key, and is verified in full. Only
    /// valid tokens are remembered, so invalid ones cannot crowd out real ones.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let invalid =
            || AppError::Unauthenticated("the access token is invalid or expired".to_owned());
        if let Some(claims) = self.verified.get(token) {
            // The expiry rule jsonwebtoken applied when the token was verified, applied again now.
            if claims.exp.saturating_add(LEEWAY_SECS) >= unix_now() {
                return Ok(claims);
            }
            self.verified.invalidate(token);
            return Err(invalid());
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::EdDSA {
            return Err(invalid());
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or_else(invalid)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|_| invalid())?
            .claims;
        if claims.iat > unix_now() + LEEWAY_SECS {
            return Err(invalid());
        }
        self.verified.insert(token.to_owned(), claims.clone());
        Ok(claims)
    }

    /// Authenticates a request from its `Authorization` header: no header is anonymous, a bad one fails.
    pub fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, AppError> {
        Ok(match self.claims_of(headers)? {
            Some(claims) => Caller::User(claims.actor()),
            None => Caller::Anonymous,
        })
    }

    /// The verified claims of a request's `Authorization` header: `None` without one, an error for a bad one.
    pub fn claims_of(&self, headers: &http::HeaderMap) -> Result<Option<Claims>, AppError> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::Unauthenticated("expected `Authorization: Bearer <token>`".to_owned())
            })?;
        self.verify(token).map(Some)
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
        let invalid = |reason: String| KeyError::Invalid {
            variable: "JWT_PRIVATE_KEY",
            kind: "private",
            reason,
        };
        let signing =
            SigningKey::from_pkcs8_pem(pem.expose_secret()).map_err(|e| invalid(e.to_string()))?;
        let key = EncodingKey::from_ed_pem(pem.expose_secret().as_bytes())
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            key,
            kid: key_id(&signing.verifying_key()),
            issuer: issuer.to_owned(),
            ttl,
        })
    }

    /// The key id this signer puts in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Lifetime of the tokens this signer mints.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Mints an access token for `actor`, whose account's token version is now `token_version`.
    pub fn sign(&self, actor: Actor, token_version: i64) -> Result<String, AppError> {
        let iat = unix_now();
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: actor.id,
            role: actor.role,
            iat,
            exp: iat + self.ttl.as_secs(),
            jti: Uuid::now_v7().to_string(),
            ver: token_version,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(AppError::internal)
    }
}

/// A freshly generated Ed25519 key pair as PEMs: (private PKCS#8, public SPKI).
pub fn generate_key_pair() -> Result<(SecretString, String), KeyError> {
    let invalid = |reason: String| KeyError::Invalid {
        variable: "generated key",
        kind: "private",
        reason,
    };
    let signing = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let private = signing
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| invalid(e.to_string()))?;
    let public = signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| invalid(e.to_string()))?;
    Ok((SecretString::from(private.to_string()), public))
}

/// The public key PEM matching a private key PEM.
pub fn public_pem_of(private_pem: &SecretString) -> Result<String, KeyError> {
    let invalid = |reason: String| KeyError::Invalid {
        variable: "JWT_PRIVATE_KEY",
        kind: "private",
        reason,
    };
    let signing = SigningKey::from_pkcs8_pem(private_pem.expose_secret())
        .map_err(|e| invalid(e.to_string()))?;
    signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| invalid(e.to_string()))
}

/// Where development keys live under the state folder (`QUICKMART_STATE_DIR`, default `.quickmart`).
const DEV_KEY_FOLDER: &str = "keys";
/// File name of the generated development private key.
const DEV_PRIVATE_KEY_FILE: &str = "jwt-private.pem";
/// File name of the generated development public key (written for reference; always derived on load).
const DEV_PUBLIC_KEY_FILE: &str = "jwt-public.pem";

/// The keys of a subgraph: the private key it signs with (the user subgraph only) and the public key set every
/// subgraph verifies with, read from `JWT_PRIVATE_KEY`, `JWT_PUBLIC_KEYS` and `JWT_ISSUER`.
///
/// In development, with neither key set, a key pair is generated once into `<QUICKMART_STATE_DIR>/keys/` and
/// reused by every service and every later start, so tokens minted by one subgraph verify in the others.
/// Production never generates keys: it needs `JWT_PUBLIC_KEYS` (or `JWT_PRIVATE_KEY`, whose public half is used).
#[derive(Debug, Clone)]
pub struct KeyMaterial {
    /// The private key PEM to sign with, when this environment has one.
    pub private_pem: Option<SecretString>,
    /// One or more public key PEMs, concatenated; tokens verify against any of them (chosen by `kid`).
    pub public_pems: String,
    /// The `iss` claim minted and required.
    pub issuer: String,
    /// Whether the keys are development keys from the state folder.
    pub generated: bool,
}

impl KeyMaterial {
    /// Reads the keys from the environment, generating or reusing development keys when none are set. Every
    /// failure names the variable to fix (`QUICKMART_STATE_DIR` when the development keys cannot be stored).
    pub fn from_env(env: &crate::config::Env) -> Result<Self, crate::config::ConfigError> {
        let issuer = env.raw("JWT_ISSUER").unwrap_or(DEFAULT_ISSUER).to_owned();
        let private_pem = env
            .raw("JWT_PRIVATE_KEY")
            .map(|pem| SecretString::from(unescape_newlines(pem)));
        let public_pems = env.raw("JWT_PUBLIC_KEYS").map(unescape_newlines);
        let material = match (private_pem, public_pems) {
            (private_pem, Some(public_pems)) => Self {
                private_pem,
                public_pems,
                issuer,
                generated: false,
            },
            (Some(private), None) => {
                let public_pems = public_pem_of(&private).map_err(config_error)?;
                Self {
                    private_pem: Some(private),
                    public_pems,
                    issuer,
                    generated: false,
                }
            }
            (None, None) if env.is_production() => {
                return Err(crate::config::ConfigError::Missing {
                    name: "JWT_PUBLIC_KEYS".into(),
                });
            }
            (None, None) => {
                let folder =
                    std::path::Path::new(env.raw("QUICKMART_STATE_DIR").unwrap_or(".quickmart"))
                        .join(DEV_KEY_FOLDER);
                let private = load_or_generate_dev_key(&folder).map_err(|reason| {
                    crate::config::ConfigError::Malformed {
                        name: "QUICKMART_STATE_DIR".into(),
                        reason,
                    }
                })?;
                tracing::warn!(
                    folder = %folder.display(),
                    "JWT_PRIVATE_KEY and JWT_PUBLIC_KEYS are not set: using a generated development key pair \
                     (never in production)"
                );
                let public_pems = public_pem_of(&private).map_err(config_error)?;
                Self {
                    public_pems,
                    private_pem: Some(private),
                    issuer,
                    generated: true,
                }
            }
        };
        material.check().map_err(config_error)?;
        Ok(material)
    }

    /// The verifier of access tokens, over the whole public key set.
    pub fn verifier(&self) -> Result<JwtVerifier, KeyError> {
        JwtVerifier::from_pems(&self.public_pems, &self.issuer)
    }

    /// The signer of access tokens (15 minutes); an error when no private key is configured.
    pub fn signer(&self) -> Result<JwtSigner, KeyError> {
        let private = self
            .private_pem
            .as_ref()
            .ok_or(KeyError::Empty("JWT_PRIVATE_KEY"))?;
        JwtSigner::from_pem(private, &self.issuer, ACCESS_TOKEN_TTL)
    }

    /// Both key variables parse, and the signing key is one of the set: otherwise every token minted here
    /// would be refused everywhere, which start-up should say rather than the first login.
    fn check(&self) -> Result<(), KeyError> {
        let verifier = self.verifier()?;
        if self.private_pem.is_some() {
            let signer = self.signer()?;
            if !verifier.keys.contains_key(signer.kid()) {
                return Err(KeyError::Invalid {
                    variable: "JWT_PUBLIC_KEYS",
                    kind: "public",
                    reason: format!(
                        "the key set lacks the public key of JWT_PRIVATE_KEY (kid {})",
                        signer.kid()
                    ),
                });
            }
        }
        Ok(())
    }
}

/// A key that does not load is a malformed variable.
fn config_error(error: KeyError) -> crate::config::ConfigError {
    let name = match &error {
        KeyError::Invalid { variable, .. } | KeyError::Empty(variable) => (*variable).to_owned(),
    };
    crate::config::ConfigError::Malformed {
        name,
        reason: error.to_string(),
    }
}

/// Lets a PEM travel in a one-line variable with `\n` escapes (some secret stores flatten newlines).
fn unescape_newlines(value: &str) -> String {
    if value.contains('\n') {
        value.to_owned()
    } else {
        value.replace("\\n", "\n")
    }
}

/// Reads the development private key in `folder`, generating it first when absent. Services starting together
/// race here, so the key is written to a temporary file and hard-linked into place: exactly one wins, and every
/// service then reads the winner's key.
fn load_or_generate_dev_key(folder: &std::path::Path) -> Result<SecretString, String> {
    let io = |what: &str, error: std::io::Error| format!("{what} {}: {error}", folder.display());
    let path = folder.join(DEV_PRIVATE_KEY_FILE);
    if !path.exists() {
        std::fs::create_dir_all(folder)
            .map_err(|e| io("cannot create the development key folder", e))?;
        let (private, public) = generate_key_pair().map_err(|e| e.to_string())?;
        let temporary = folder.join(format!(
            ".{DEV_PRIVATE_KEY_FILE}.{}",
            Uuid::new_v4().simple()
        ));
        write_private(&temporary, private.expose_secret())
            .map_err(|e| io("cannot write a key into", e))?;
        match std::fs::hard_link(&temporary, &path) {
            Ok(()) => {
                // Only for a developer who wants to configure another process by hand; never read back.
                let _ = std::fs::write(folder.join(DEV_PUBLIC_KEY_FILE), public);
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                let _ = std::fs::remove_file(&temporary);
                return Err(io("cannot store the development key in", error));
            }
        }
        let _ = std::fs::remove_file(&temporary);
    }
    let pem =
        std::fs::read_to_string(&path).map_err(|e| io("cannot read the development key in", e))?;
    Ok(SecretString::from(pem))
}

/// Writes a private key readable by its owner only.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
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
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer_and_public() -> (JwtSigner, String) {
        let (private, public) = generate_key_pair().expect("keys");
        (
            JwtSigner::from_pem(&private, DEFAULT_ISSUER, ACCESS_TOKEN_TTL).expect("signer"),
            public,
        )
    }

    #[test]
    fn a_signed_token_verifies_and_names_the_actor() {
        let (signer, public) = signer_and_public();
        let verifier = JwtVerifier::from_pems(&public, DEFAULT_ISSUER).expect("verifier");
        let actor = Actor {
            id: Uuid::now_v7(),
            role: Role::Admin,
        };
        let claims = verifier
            .verify(&signer.sign(actor, 0).expect("token"))
            .expect("valid");
        assert_eq!((claims.sub, claims.role), (actor.id, actor.role));
    }

    #[test]
    fn a_remembered_token_still_expires_and_an_altered_one_is_verified_again() {
        let (signer, public) = signer_and_public();
        let verifier = JwtVerifier::from_pems(&public, DEFAULT_ISSUER).expect("verifier");
        let actor = Actor {
            id: Uuid::now_v7(),
            role: Role::Customer,
        };
        let token = signer.sign(actor, 0).expect("token");
        let claims = verifier.verify(&token).expect("valid");
        assert_eq!(verifier.verify(&token).expect("remembered").sub, actor.id);
        // One character of the signature changed: not the remembered token, and not valid.
        let mut altered = token.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).expect("ascii");
        assert!(verifier.verify(&altered).is_err());
        // The remembered entry outlives the token: the expiry is checked on every use.
        let expired = Claims {
            exp: unix_now() - LEEWAY_SECS - 1,
            ..claims
        };
        verifier.verified.insert(token.clone(), expired);
        assert!(verifier.verify(&token).is_err());
        assert!(verifier.verified.get(&token).is_none(), "and forgotten");
    }

    #[test]
    fn the_remembered_tokens_stay_within_their_bytes_whatever_is_thrown_at_them() {
        let (_, public) = signer_and_public();
        let verifier = JwtVerifier::from_pems(&public, DEFAULT_ISSUER).expect("verifier");
        let claims = Claims {
            iss: DEFAULT_ISSUER.to_owned(),
            sub: Uuid::now_v7(),
            role: Role::Customer,
            iat: unix_now(),
            exp: unix_now() + 900,
            jti: String::new(),
            ver: 0,
        };
        // Eight writers at once, 3× more (and longer) tokens than the bound holds.
        let per_writer =
            3 * (VERIFIED_TOKEN_BYTES as usize) / (1024 + VERIFIED_ENTRY_OVERHEAD as usize) / 8;
        std::thread::scope(|scope| {
            for writer in 0..8 {
                let (verifier, claims) = (&verifier, &claims);
                scope.spawn(move || {
                    for n in 0..per_writer {
                        verifier
                            .verified
                            .insert(format!("{writer}-{n}-{}", "t".repeat(1024)), claims.clone());
                    }
                });
            }
        });
        verifier.verified.run_pending_tasks();
        assert!(
            verifier.verified.weighted_size() <= VERIFIED_TOKEN_BYTES,
            "{} bytes remembered",
            verifier.verified.weighted_size()
        );
    }

    #[test]
    fn rotation_accepts_every_key_of_the_set_and_nothing_else() {
        let (old, old_public) = signer_and_public();
        let (new, new_public) = signer_and_public();
        let (stranger, _) = signer_and_public();
        let verifier =
            JwtVerifier::from_pems(&format!("{new_public}\n{old_public}"), DEFAULT_ISSUER)
                .expect("set");
        let actor = Actor {
            id: Uuid::now_v7(),
            role: Role::Customer,
        };
        assert!(verifier.verify(&old.sign(actor, 0).expect("token")).is_ok());
        assert!(verifier.verify(&new.sign(actor, 0).expect("token")).is_ok());
        assert!(
            verifier
                .verify(&stranger.sign(actor, 0).expect("token"))
                .is_err()
        );
    }

    #[test]
    fn wrong_issuer_is_refused() {
        let (private, public) = generate_key_pair().expect("keys");
        let signer =
            JwtSigner::from_pem(&private, "someone-else", ACCESS_TOKEN_TTL).expect("signer");
        let verifier = JwtVerifier::from_pems(&public, DEFAULT_ISSUER).expect("verifier");
        let actor = Actor {
            id: Uuid::now_v7(),
            role: Role::Customer,
        };
        assert!(
            verifier
                .verify(&signer.sign(actor, 0).expect("token"))
                .is_err()
        );
    }
    fn scratch_folder() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("quickmart-keys-test-{}", Uuid::new_v4().simple()))
    }

    #[test]
    fn development_keys_are_generated_once_and_shared() {
        let state = scratch_folder();
        let state_dir = state.to_string_lossy().into_owned();
        let env = crate::config::Env::from_pairs([("QUICKMART_STATE_DIR", state_dir.as_str())])
            .expect("env");
        let first = KeyMaterial::from_env(&env).expect("generated");
        let second = KeyMaterial::from_env(&env).expect("reused");
        assert!(first.generated);
        assert_eq!(first.public_pems, second.public_pems);
        let token = first.signer().expect("signer").sign(
            Actor {
                id: Uuid::now_v7(),
                role: Role::Customer,
            },
            0,
        );
        assert!(
            second
                .verifier()
                .expect("verifier")
                .verify(&token.expect("token"))
                .is_ok()
        );
        let _ = std::fs::remove_dir_all(state);
    }

    #[test]
    fn production_needs_real_keys() {
        let env = crate::config::Env::from_pairs([("QUICKMART_ENV", "production")]).expect("env");
        let error = KeyMaterial::from_env(&env).expect_err("no keys in production");
        assert!(error.to_string().contains("JWT_PUBLIC_KEYS"));
    }

    #[test]
    fn configured_keys_must_include_the_signing_key() {
        let (private, _) = generate_key_pair().expect("keys");
        let (_, other_public) = generate_key_pair().expect("keys");
        let private = private.expose_secret().to_owned();
        let env = crate::config::Env::from_pairs([
            ("JWT_PRIVATE_KEY", private.as_str()),
            ("JWT_PUBLIC_KEYS", other_public.as_str()),
        ])
        .expect("env");
        assert!(KeyMaterial::from_env(&env).is_err());
        let verify_only = crate::config::Env::from_pairs([
            ("QUICKMART_ENV", "production"),
            (
                "JWT_PUBLIC_KEYS",
                other_public.replace('\n', "\\n").as_str(),
            ),
        ])
        .expect("env");
        let material =
            KeyMaterial::from_env(&verify_only).expect("a verifier needs only public keys");
        assert!(material.signer().is_err());
        assert!(material.verifier().is_ok());
    }
}
