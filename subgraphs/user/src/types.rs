//! The GraphQL types of the subgraph.

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use quickmart_shared::AppError;
use quickmart_shared::auth::Role;
use quickmart_shared::graphql::{Address, PageInfo};
use user_contract::api::UserDto;

use crate::loaders::RequestData;

/// The request's data, attached by the router to every request.
pub(crate) fn request_data<'a>(ctx: &Context<'a>) -> Result<&'a RequestData, AppError> {
    ctx.data::<RequestData>()
        .map_err(|_| AppError::internal("user request data missing"))
}

/// A QuickMart account.
pub(crate) struct User(pub UserDto);

#[Object]
impl User {
    /// User id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// E-mail address, lower-cased.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Role.
    async fn role(&self) -> Role {
        self.0.role
    }

    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Saved addresses, oldest first (at most 20).
    async fn addresses(&self, ctx: &Context<'_>) -> Result<Vec<Address>, AppError> {
        let book = crate::addresses::book(ctx, self.0.id).await?;
        Ok(book.into_iter().map(crate::addresses::saved).collect())
    }

    /// The default address (the first one saved, until another is made the default); null while none is saved.
    async fn default_address(&self, ctx: &Context<'_>) -> Result<Option<Address>, AppError> {
        let book = crate::addresses::book(ctx, self.0.id).await?;
        Ok(book
            .into_iter()
            .find(|address| address.is_default)
            .map(crate::addresses::saved))
    }
}

/// What a successful sign-up, login or refresh returns.
#[derive(SimpleObject)]
#[graphql(complex)]
pub(crate) struct AuthPayload {
    /// A JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// An opaque, single-use token for `refreshToken` and `logout`.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i32,
    #[graphql(skip)]
    pub user: UserDto,
}

#[ComplexObject]
impl AuthPayload {
    /// The signed-in user.
    async fn user(&self) -> User {
        User(self.user.clone())
    }
}

/// A page of users.
#[derive(SimpleObject)]
pub(crate) struct UserConnection {
    /// The users with their cursors.
    pub edges: Vec<UserEdge>,
    /// The users.
    pub nodes: Vec<User>,
    /// Where this page ends.
    pub page_info: PageInfo,
    /// How many users there are in all.
    pub total_count: i32,
}

/// A user and its cursor.
#[derive(SimpleObject)]
pub(crate) struct UserEdge {
    /// Pass as `after` to continue after this user.
    pub cursor: String,
    /// The user.
    pub node: User,
}

/// Sign-up details.
#[derive(InputObject)]
pub(crate) struct RegisterInput {
    /// E-mail address; unique regardless of case.
    pub email: String,
    /// At least 10 characters, not all of one kind.
    #[graphql(secret)]
    pub password: String,
    /// Display name.
    pub name: String,
}

/// Changes to the signed-in user's account; only the fields given change.
#[derive(InputObject)]
pub(crate) struct UpdateMeInput {
    /// New display name.
    pub name: Option<String>,
    /// The current password, required with `newPassword`.
    #[graphql(secret)]
    pub current_password: Option<String>,
    /// New password; changing it signs out every session.
    #[graphql(secret)]
    pub new_password: Option<String>,
}
