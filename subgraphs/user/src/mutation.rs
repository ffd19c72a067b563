//! Sign-up, login, refresh, logout, account changes and roles.

use async_graphql::{Context, ID, Object};
use quickmart_shared::AppError;
use quickmart_shared::auth::{Actor, Role};
use quickmart_shared::graphql::{AdminOnly, SignedIn, request_context};
use secrecy::{ExposeSecret, SecretString};
use user_contract::api::{
    CreateUser, IssuedRefreshToken, PresentRefreshToken, UpdateUser, VerifyCredentials,
};
use user_contract::cache::user_key;

use crate::Services;
use crate::query::{parse_id, services};
use crate::rate_limit::{LoginLimits, reserve_registration};
use crate::types::{AuthPayload, RegisterInput, UpdateMeInput, User};

/// Longest e-mail address (RFC 5321's path limit); a longer one is refused before anything is counted.
const MAX_EMAIL_LENGTH: usize = 254;

/// The root mutation of the user subgraph.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Creates a customer account and signs it in. Twenty registrations an hour per client address.
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> Result<AuthPayload, AppError> {
        let (services, context) = (services(ctx)?, request_context(ctx)?);
        reserve_registration(&services.cache, context.client_ip.as_deref()).await?;
        let call = context.call_context();
        let body = CreateUser {
            email: input.email,
            password: SecretString::from(input.password),
            name: input.name,
        };
        let user = services.core.create_user(&call, &body).await?;
        let issued = services.core.issue_refresh_token(&call, user.id).await?;
        sign_in(services, issued)
    }

    /// Signs in with e-mail and password. Five attempts per e-mail from one client address (twenty from all)
    /// within 15 minutes, then `RATE_LIMITED` until the window ends; after thirty failures from one address its
    /// attempts are slowed to one every ten seconds.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        #[graphql(secret)] password: String,
    ) -> Result<AuthPayload, AppError> {
        let (services, context) = (services(ctx)?, request_context(ctx)?);
        let call = context.call_context();
        if email.chars().count() > MAX_EMAIL_LENGTH {
            return Err(AppError::invalid(
                "email",
                format!("must be at most {MAX_EMAIL_LENGTH} characters"),
            ));
        }
        let limits = LoginLimits::new(&services.cache, &email, context.client_ip.as_deref());
        if let Err(refused) = limits.reserve().await {
            limits.record_failure().await;
            return Err(refused);
        }
        let body = VerifyCredentials {
            email,
            password: SecretString::from(password),
        };
        let user = match services.core.verify_credentials(&call, &body).await {
            Ok(user) => user,
            Err(error @ AppError::Unauthenticated(_)) => {
                limits.record_failure().await;
                return Err(error);
            }
            Err(other) => return Err(other),
        };
        limits.record_success().await;
        let issued = services.core.issue_refresh_token(&call, user.id).await?;
        sign_in(services, issued)
    }

    /// Exchanges a refresh token for a new access token and a new refresh token; the old one stops working, and
    /// presenting it again signs out every session descended from the same login.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] refresh_token: String,
    ) -> Result<AuthPayload, AppError> {
        let (services, call) = (services(ctx)?, request_context(ctx)?.call_context());
        let body = PresentRefreshToken {
            refresh_token: SecretString::from(refresh_token),
        };
        let issued = services.core.rotate_refresh_token(&call, &body).await?;
        sign_in(services, issued)
    }

    /// Ends the session of a refresh token; false when it was unknown or already ended. Access tokens already
    /// issued stay valid until they expire (15 minutes at most).
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] refresh_token: String,
    ) -> Result<bool, AppError> {
        let (services, call) = (services(ctx)?, request_context(ctx)?.call_context());
        let body = PresentRefreshToken {
            refresh_token: SecretString::from(refresh_token),
        };
        services.core.revoke_refresh_token(&call, &body).await
    }

    /// Changes the signed-in user's name and/or password (a new password needs the current one and signs out
    /// every session).
    #[graphql(guard = "SignedIn")]
    async fn update_me(&self, ctx: &Context<'_>, input: UpdateMeInput) -> Result<User, AppError> {
        let (services, context) = (services(ctx)?, request_context(ctx)?);
        let actor = context.require_user()?;
        let body = UpdateUser {
            name: input.name,
            current_password: input.current_password.map(SecretString::from),
            new_password: input.new_password.map(SecretString::from),
        };
        let user = services
            .core
            .update(&context.call_context(), actor.id, &body)
            .await?;
        services.cache.delete(&[user_key(actor.id)]).await;
        Ok(User(user))
    }

    /// Sets a user's role (admins only). Access tokens already issued keep their role until they expire.
    #[graphql(guard = "AdminOnly")]
    async fn set_user_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> Result<User, AppError> {
        let (services, context) = (services(ctx)?, request_context(ctx)?);
        let id = parse_id(&user_id, "userId")?;
        let user = services
            .core
            .set_role(&context.call_context(), id, role)
            .await?;
        services.cache.delete(&[user_key(id)]).await;
        Ok(User(user))
    }
}

/// The answer to a successful sign-up, login or refresh: a fresh access token for the user as they are now.
fn sign_in(services: &Services, issued: IssuedRefreshToken) -> Result<AuthPayload, AppError> {
    let access_token = services.signer.sign(Actor {
        id: issued.user.id,
        role: issued.user.role,
    })?;
    Ok(AuthPayload {
        access_token,
        refresh_token: issued.refresh_token.expose_secret().to_owned(),
        expires_in: i32::try_from(services.signer.ttl().as_secs()).unwrap_or(i32::MAX),
        user: issued.user,
    })
}
