//! Queries, mutations and entity resolvers: the signed-in user, one user, the user list, and the `User` entity;
//! sign-up, login, refresh, logout, account changes, roles and saved addresses.

use async_graphql::{Context, EmptySubscription, ID, Object, Schema};
use quickmart_shared::AppError;
use quickmart_shared::auth::{Actor, Caller, Role};
use quickmart_shared::graphql::{
    Address, AddressInput, AdminOnly, PageInfo, SignedIn, camel_case, parse_id, request_context,
    total_count, wants_total,
};
use quickmart_shared::pagination::PageSize;
use secrecy::{ExposeSecret, SecretString};
use user_contract::api::{
    CreateUser, IssuedRefreshToken, PresentRefreshToken, UpdateUser, UserQuery, VerifyCredentials,
};
use uuid::Uuid;

use crate::accounts::Accounts;
use crate::rate_limit::{LoginLimits, reserve_registration};
use crate::types::{
    AuthPayload, RegisterInput, UpdateMeInput, User, UserConnection, UserEdge, request_data,
};

/// The user subgraph's schema.
pub type UserSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema (no data attached: per-request data comes with each request).
pub fn build_schema() -> UserSchema {
    schema_validating(async_graphql::ValidationMode::Strict)
}

/// Builds the schema with `mode` (the subgraph runs a text that validated once with `ValidationMode::Fast`).
pub fn schema_validating(mode: async_graphql::ValidationMode) -> UserSchema {
    quickmart_shared::graphql::subgraph_schema(Query, Mutation, EmptySubscription)
        .validation_mode(mode)
        .finish()
}

/// Longest e-mail address (RFC 5321's path limit); a longer one is refused before anything is counted.
const MAX_EMAIL_LENGTH: usize = 254;

/// The root query of the user subgraph.
pub struct Query;

#[Object]
impl Query {
    /// The signed-in user; null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>, AppError> {
        match request_context(ctx)?.caller.actor() {
            Some(actor) => load_user(ctx, actor.id).await,
            None => Ok(None),
        }
    }

    /// A user: admins see anyone, a user sees themself, anyone else gets null (existence is not leaked).
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>, AppError> {
        let id = parse_id(&id, "id")?;
        visible_user(ctx, id).await
    }

    /// Every user, newest first (admins only).
    #[graphql(guard = "AdminOnly")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<UserConnection, AppError> {
        let size = PageSize::new(first.map(i64::from), "first")?;
        let context = request_context(ctx)?;
        let query = UserQuery {
            limit: Some(i64::from(size.get())),
            after,
            with_total: Some(wants_total(ctx)),
        };
        let page = request_data(ctx)?
            .accounts
            .core
            .list(&context.call_context(), &query)
            .await?;
        let end_cursor = page.items.last().map(|edge| edge.cursor.clone());
        let edges: Vec<UserEdge> = page
            .items
            .into_iter()
            .map(|edge| UserEdge {
                cursor: edge.cursor,
                node: User(edge.user),
            })
            .collect();
        let nodes = edges.iter().map(|edge| User(edge.node.0.clone())).collect();
        Ok(UserConnection {
            edges,
            nodes,
            page_info: PageInfo {
                has_next_page: page.has_more,
                end_cursor,
            },
            total_count: total_count(page.total_count),
        })
    }

    /// Resolves `User` references from other subgraphs, with the same visibility as `user(id)`.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>, AppError> {
        let id = parse_id(&id, "id")?;
        visible_user(ctx, id).await
    }
}

/// A user if the caller may see it: an admin, or the user themself.
async fn visible_user(ctx: &Context<'_>, id: Uuid) -> Result<Option<User>, AppError> {
    let visible = match request_context(ctx)?.caller {
        Caller::User(actor) => actor.is_admin() || actor.id == id,
        Caller::Anonymous => false,
    };
    if visible {
        load_user(ctx, id).await
    } else {
        Ok(None)
    }
}

/// A user by id through the request's loader (and the cache behind it).
async fn load_user(ctx: &Context<'_>, id: Uuid) -> Result<Option<User>, AppError> {
    Ok(request_data(ctx)?.user(id).await?.map(User))
}

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
        let (data, context) = (request_data(ctx)?, request_context(ctx)?);
        let accounts = &data.accounts;
        reserve_registration(&accounts.limits, context.client_ip.as_deref()).await?;
        let call = &data.ctx;
        let body = CreateUser {
            email: input.email,
            password: SecretString::from(input.password),
            name: input.name,
        };
        let user = accounts.core.create_user(call, &body).await?;
        let issued = accounts.core.issue_refresh_token(call, user.id).await?;
        sign_in(accounts, issued)
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
        let (data, context) = (request_data(ctx)?, request_context(ctx)?);
        let (accounts, call) = (&data.accounts, &data.ctx);
        if email.chars().count() > MAX_EMAIL_LENGTH {
            return Err(AppError::invalid(
                "email",
                format!("must be at most {MAX_EMAIL_LENGTH} characters"),
            ));
        }
        let limits = LoginLimits::new(&accounts.limits, &email, context.client_ip.as_deref());
        if let Err(refused) = limits.reserve().await {
            limits.record_failure().await;
            return Err(refused);
        }
        let body = VerifyCredentials {
            email,
            password: SecretString::from(password),
        };
        let user = match accounts.core.verify_credentials(call, &body).await {
            Ok(user) => user,
            Err(error @ AppError::Unauthenticated(_)) => {
                limits.record_failure().await;
                return Err(error);
            }
            Err(other) => return Err(other),
        };
        limits.record_success().await;
        let issued = accounts.core.issue_refresh_token(call, user.id).await?;
        sign_in(accounts, issued)
    }

    /// Exchanges a refresh token for a new access token and a new refresh token; the old one stops working, and
    /// presenting it again signs out every session descended from the same login.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] refresh_token: String,
    ) -> Result<AuthPayload, AppError> {
        let data = request_data(ctx)?;
        let body = PresentRefreshToken {
            refresh_token: SecretString::from(refresh_token),
        };
        let issued = data
            .accounts
            .core
            .rotate_refresh_token(&data.ctx, &body)
            .await?;
        sign_in(&data.accounts, issued)
    }

    /// Signs the signed-in user out everywhere: every refresh token is revoked, and every access token issued so
    /// far (this one too) is refused from now on by every subgraph.
    #[graphql(guard = "SignedIn")]
    async fn logout_all(&self, ctx: &Context<'_>) -> Result<bool, AppError> {
        let (data, context) = (request_data(ctx)?, request_context(ctx)?);
        let actor = context.require_user()?;
        let user = data.accounts.core.end_sessions(&data.ctx, actor.id).await?;
        data.accounts.remember(&user).await;
        Ok(true)
    }

    /// Ends the session of a refresh token; false when it was unknown or already ended. Access tokens already
    /// issued stay valid until they expire (15 minutes at most); `logoutAll` ends those too.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] refresh_token: String,
    ) -> Result<bool, AppError> {
        let data = request_data(ctx)?;
        let body = PresentRefreshToken {
            refresh_token: SecretString::from(refresh_token),
        };
        data.accounts
            .core
            .revoke_refresh_token(&data.ctx, &body)
            .await
    }

    /// Changes the signed-in user's name and/or password (a new password needs the current one and signs out
    /// every session).
    #[graphql(guard = "SignedIn")]
    async fn update_me(&self, ctx: &Context<'_>, input: UpdateMeInput) -> Result<User, AppError> {
        let (data, context) = (request_data(ctx)?, request_context(ctx)?);
        let actor = context.require_user()?;
        let body = UpdateUser {
            name: input.name,
            current_password: input.current_password.map(SecretString::from),
            new_password: input.new_password.map(SecretString::from),
        };
        // The core names fields as its JSON does (`new_password`); the client knows them as GraphQL does.
        let user = data
            .accounts
            .core
            .update(&data.ctx, actor.id, &body)
            .await
            .map_err(|e| e.map_fields(camel_case))?;
        data.accounts.remember(&user).await;
        Ok(User(user))
    }

    /// Saves an address in the signed-in customer's address book (at most 20; the first becomes the default).
    #[graphql(guard = "SignedIn")]
    async fn add_address(
        &self,
        ctx: &Context<'_>,
        input: AddressInput,
    ) -> Result<Address, AppError> {
        crate::addresses::add(ctx, input).await
    }

    /// Replaces one of the signed-in customer's saved addresses.
    #[graphql(guard = "SignedIn")]
    async fn update_address(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AddressInput,
    ) -> Result<Address, AppError> {
        crate::addresses::update(ctx, &id, input).await
    }

    /// Removes one of the signed-in customer's saved addresses; if it was the default, the oldest remaining one
    /// becomes the default.
    #[graphql(guard = "SignedIn")]
    async fn remove_address(&self, ctx: &Context<'_>, id: ID) -> Result<bool, AppError> {
        crate::addresses::remove(ctx, &id).await
    }

    /// Makes one of the signed-in customer's saved addresses the default.
    #[graphql(guard = "SignedIn")]
    async fn set_default_address(&self, ctx: &Context<'_>, id: ID) -> Result<Address, AppError> {
        crate::addresses::set_default(ctx, &id).await
    }

    /// Sets a user's role (admins only). The user's sessions end when the role changes: their access tokens are
    /// refused, and they sign in again with the new role.
    #[graphql(guard = "AdminOnly")]
    async fn set_user_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> Result<User, AppError> {
        let data = request_data(ctx)?;
        let id = parse_id(&user_id, "userId")?;
        let user = data.accounts.core.set_role(&data.ctx, id, role).await?;
        data.accounts.remember(&user).await;
        Ok(User(user))
    }
}

/// The answer to a successful sign-up, login or refresh: a fresh access token for the user as they are now.
fn sign_in(accounts: &Accounts, issued: IssuedRefreshToken) -> Result<AuthPayload, AppError> {
    let access_token = accounts.signer.sign(
        Actor {
            id: issued.user.id,
            role: issued.user.role,
        },
        issued.user.token_version,
    )?;
    Ok(AuthPayload {
        access_token,
        refresh_token: issued.refresh_token.expose_secret().to_owned(),
        expires_in: i32::try_from(accounts.signer.ttl().as_secs()).unwrap_or(i32::MAX),
        user: issued.user,
    })
}
