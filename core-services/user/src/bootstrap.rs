//! The first admin account, from `QUICKMART_ADMIN_EMAIL` / `QUICKMART_ADMIN_PASSWORD`.

use quickmart_shared::auth::Role;
use quickmart_shared::config::ConfigError;
use quickmart_shared::db::DbPool;
use quickmart_shared::server::StartError;
use secrecy::SecretString;
use uuid::Uuid;

use crate::db::users::{self, NewUser};
use crate::domain::{Email, Password, PasswordHasher};

/// Creates the admin account unless an account with its e-mail exists (then nothing changes: its password and
/// role are whatever they have become since), so every start and every replica can run it.
pub(crate) async fn ensure_admin(
    pool: &DbPool,
    hasher: &PasswordHasher,
    email: &str,
    password: &SecretString,
) -> Result<(), StartError> {
    let malformed = |name: &str, reason: String| {
        StartError::Config(ConfigError::Malformed {
            name: name.into(),
            reason,
        })
    };
    let email = Email::parse(email)
        .map_err(|reason| malformed("QUICKMART_ADMIN_EMAIL", reason.to_owned()))?;
    let unavailable =
        |e: &dyn std::fmt::Display| StartError::Other(format!("admin bootstrap: {e}"));
    let mut conn = pool.get().await.map_err(|e| unavailable(&e))?;
    if users::find_by_email(&mut conn, email.as_str())
        .await
        .map_err(|e| unavailable(&e))?
        .is_some()
    {
        return Ok(());
    }
    let password = Password::parse(password.clone())
        .map_err(|reason| malformed("QUICKMART_ADMIN_PASSWORD", reason.to_string()))?;
    let hash = hasher.hash(&password).await.map_err(|e| unavailable(&e))?;
    let admin = NewUser {
        id: Uuid::now_v7(),
        email: email.as_str(),
        name: "Administrator",
        password_hash: &hash,
        role: Role::Admin.as_str(),
    };
    if users::insert_if_absent(&mut conn, &admin)
        .await
        .map_err(|e| unavailable(&e))?
    {
        tracing::info!(email = email.as_str(), "created the admin account");
    }
    Ok(())
}
