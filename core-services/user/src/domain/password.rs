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
/// time a real check takes. All of it passes through one [`HashingGate`].
#[derive(Clone)]
pub struct PasswordHasher {
    /// A hash of a random password, verified against when an e-mail is unknown so both answers take as long.
    decoy: Arc<String>,
    gate: HashingGate,
}

impl PasswordHasher {
    /// A hasher with Argon2's recommended parameters (Argon2id, 19 MiB, 2 passes, 1 lane) and a gate sized to
    /// the machine's cores; hashes its decoy.
    pub async fn new() -> Result<Self, AppError> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let gate = HashingGate::new(cores, cores * 4);
        let random = SecretString::from(uuid::Uuid::new_v4().to_string());
        let decoy = gate.run(move || hash_now(&random)).await??;
        Ok(Self {
            decoy: Arc::new(decoy),
            gate,
        })
    }

    /// The PHC string of `password` (`$argon2id$v=19$…`).
    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        let password = password.secret().clone();
        self.gate.run(move || hash_now(&password)).await?
    }

    /// Whether `candidate` matches the PHC string `hash`; `None` verifies against the decoy and says no.
    pub async fn verify(
        &self,
        candidate: &SecretString,
        hash: Option<&str>,
    ) -> Result<bool, AppError> {
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.decoy.as_str().to_owned(), str::to_owned);
        let candidate = candidate.clone();
        let matches = self
            .gate
            .run(move || {
                // The parameters come from the stored PHC string, so hashes made with older settings still verify.
                Argon2::default()
                    .verify_password(candidate.expose_secret().as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await?;
        Ok(known && matches)
    }
}

/// Bounds Argon2 work (19 MiB and tens of milliseconds each): at most `slots` run at once, at most `queue` more
/// wait, and past that a caller gets `SERVICE_UNAVAILABLE` at once instead of joining a pile-up that would slow
/// every other request of the service.
#[derive(Clone)]
pub(super) struct HashingGate {
    slots: Arc<tokio::sync::Semaphore>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    queue: usize,
}

impl HashingGate {
    /// A gate running `slots` jobs at once with `queue` more waiting.
    pub(super) fn new(slots: usize, queue: usize) -> Self {
        Self {
            slots: Arc::new(tokio::sync::Semaphore::new(slots.max(1))),
            waiting: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            queue,
        }
    }

    /// Runs `work` on the blocking pool once a slot is free.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        use std::sync::atomic::Ordering;
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(AppError::ServiceUnavailable(
                        "too many password checks at once; try again shortly".into(),
                    ));
                }
                // Counted out when the wait ends, however it ends (a caller that hangs up drops this future).
                struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
                impl Drop for Waiting<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                let _waiting = Waiting(&self.waiting);
                self.slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(AppError::internal)?
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(AppError::internal)
    }
}

/// Argon2::default() is Argon2id, version 0x13, with the parameters OWASP recommends.
/// Hashes on the calling thread (inside [`HashingGate::run`]).
fn hash_now(password: &SecretString) -> Result<String, AppError> {
    let salt = rand::random::<[u8; 16]>();
    Argon2::default()
        .hash_password_with_salt(password.expose_secret().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::internal(format!("hashing failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_gate_runs_at_most_its_slots_and_refuses_past_its_queue() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Row 11 of the hardening issue: Argon2 ran with unbounded concurrency. 2 slots, 6 waiting, 64 (8×8) at once.
        let gate = HashingGate::new(2, 6);
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let barrier = Arc::new(tokio::sync::Barrier::new(64));
        let jobs = (0..64).map(|_| {
            let (gate, now, most, barrier) =
                (gate.clone(), now.clone(), most.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                gate.run(move || {
                    let current = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(current, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    now.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        });
        let outcomes: Vec<_> = futures::future::join_all(jobs)
            .await
            .into_iter()
            .map(|j| j.expect("joined"))
            .collect();
        let ran = outcomes.iter().filter(|o| o.is_ok()).count();
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Ok(()) | Err(AppError::ServiceUnavailable(_))))
        );
        assert!(
            most.load(Ordering::SeqCst) <= 2,
            "{} at once",
            most.load(Ordering::SeqCst)
        );
        assert!((2..=8).contains(&ran), "{ran} ran");
        // Once the pile-up is gone, work is accepted again.
        assert!(gate.run(|| ()).await.is_ok());
    }

    fn parse(raw: &str) -> Result<Password, PasswordPolicyError> {
        Password::parse(SecretString::from(raw.to_owned()))
    }

    #[test]
    fn policy() {
        assert_eq!(parse("Short1").err(), Some(PasswordPolicyError::TooShort));
        assert_eq!(
            parse("alllowercaseletters").err(),
            Some(PasswordPolicyError::OneClass)
        );
        assert_eq!(
            parse("12345678901234").err(),
            Some(PasswordPolicyError::OneClass)
        );
        assert_eq!(
            parse(&"aB".repeat(200)).err(),
            Some(PasswordPolicyError::TooLong)
        );
        assert!(parse("correct horse battery").is_ok());
        assert!(parse("abcdefghi1").is_ok());
    }

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hasher = PasswordHasher::new().await.expect("hasher");
        let password = parse("Tr0ub4dor&3x").expect("valid");
        let hash = hasher.hash(&password).await.expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let right = SecretString::from("Tr0ub4dor&3x".to_owned());
        let wrong = SecretString::from("Tr0ub4dor&3y".to_owned());
        assert!(hasher.verify(&right, Some(&hash)).await.expect("verify"));
        assert!(!hasher.verify(&wrong, Some(&hash)).await.expect("verify"));
        assert!(!hasher.verify(&right, None).await.expect("decoy"));
    }
}
