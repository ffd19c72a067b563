//! The typed client of user-core: one method per route its callers use, over the shared internal client.

use crate::api::{
    AddressBook, AddressDto, CreateUser, IssueRefreshToken, IssuedRefreshToken, LookupUsers,
    PresentRefreshToken, Revoked, SavedAddressDto, SetRole, UpdateUser, UserDto, UserList,
    UserPage, UserQuery, VerifyCredentials,
};
use quickmart_shared::AppError;
use quickmart_shared::auth::Role;
use quickmart_shared::client::{CallContext, InternalClient};
use uuid::Uuid;

/// user-core's API, one method per endpoint.
#[derive(Debug, Clone)]
pub struct UserCoreClient {
    client: InternalClient,
}

impl UserCoreClient {
    /// Wraps an internal client pointed at user-core.
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// Creates a customer account.
    pub async fn create_user(
        &self,
        ctx: &CallContext,
        body: &CreateUser,
    ) -> Result<UserDto, AppError> {
        self.client.post("/v1/users").json(body)?.send(ctx).await
    }

    /// The account these credentials open, or `UNAUTHENTICATED`.
    pub async fn verify_credentials(
        &self,
        ctx: &CallContext,
        body: &VerifyCredentials,
    ) -> Result<UserDto, AppError> {
        // Retrying is safe: checking credentials changes nothing.
        self.client
            .post("/v1/users/verify-credentials")
            .json(body)?
            .idempotent()
            .send(ctx)
            .await
    }

    /// The accounts among `ids` that exist.
    pub async fn lookup(
        &self,
        ctx: &CallContext,
        ids: Vec<Uuid>,
    ) -> Result<Vec<UserDto>, AppError> {
        let list: UserList = self
            .client
            .post("/v1/users/lookup")
            .json(&LookupUsers { ids })?
            .idempotent()
            .send(ctx)
            .await?;
        Ok(list.items)
    }

    /// One page of accounts, newest first.
    pub async fn list(&self, ctx: &CallContext, query: &UserQuery) -> Result<UserPage, AppError> {
        self.client.get("/v1/users").query(query)?.send(ctx).await
    }

    /// Changes a user's name and/or password.
    pub async fn update(
        &self,
        ctx: &CallContext,
        id: Uuid,
        body: &UpdateUser,
    ) -> Result<UserDto, AppError> {
        self.client
            .patch(&format!("/v1/users/{id}"))
            .json(body)?
            .send(ctx)
            .await
    }

    /// Sets a user's role.
    pub async fn set_role(
        &self,
        ctx: &CallContext,
        id: Uuid,
        role: Role,
    ) -> Result<UserDto, AppError> {
        let call = self
            .client
            .call(http::Method::PUT, &format!("/v1/users/{id}/role"));
        call.json(&SetRole { role })?.idempotent().send(ctx).await
    }

    /// Ends every session of a user (refresh tokens revoked, access tokens refused); a repeat only ends the
    /// sessions begun since, so it is safe to retry.
    pub async fn end_sessions(&self, ctx: &CallContext, id: Uuid) -> Result<UserDto, AppError> {
        self.client
            .post(&format!("/v1/users/{id}/sessions/end"))
            .idempotent()
            .send(ctx)
            .await
    }

    /// Starts a session for a user.
    pub async fn issue_refresh_token(
        &self,
        ctx: &CallContext,
        user_id: Uuid,
    ) -> Result<IssuedRefreshToken, AppError> {
        self.client
            .post("/v1/refresh-tokens")
            .json(&IssueRefreshToken { user_id })?
            .send(ctx)
            .await
    }

    /// Exchanges a refresh token for its successor (never retried: a retry would look like reuse).
    pub async fn rotate_refresh_token(
        &self,
        ctx: &CallContext,
        body: &PresentRefreshToken,
    ) -> Result<IssuedRefreshToken, AppError> {
        self.client
            .post("/v1/refresh-tokens/rotate")
            .json(body)?
            .send(ctx)
            .await
    }

    /// Ends the session of a refresh token.
    pub async fn revoke_refresh_token(
        &self,
        ctx: &CallContext,
        body: &PresentRefreshToken,
    ) -> Result<bool, AppError> {
        let revoked: Revoked = self
            .client
            .post("/v1/refresh-tokens/revoke")
            .json(body)?
            .idempotent()
            .send(ctx)
            .await?;
        Ok(revoked.revoked)
    }

    /// A user's address book.
    pub async fn addresses(
        &self,
        ctx: &CallContext,
        user_id: Uuid,
    ) -> Result<AddressBook, AppError> {
        self.client
            .get(&format!("/v1/users/{user_id}/addresses"))
            .send(ctx)
            .await
    }

    /// One saved address of a user, or `NOT_FOUND` (also when it is another user's).
    pub async fn address(
        &self,
        ctx: &CallContext,
        user_id: Uuid,
        address_id: Uuid,
    ) -> Result<SavedAddressDto, AppError> {
        self.client
            .get(&format!("/v1/users/{user_id}/addresses/{address_id}"))
            .send(ctx)
            .await
    }

    /// Adds an address to a user's book (never retried: a retry could add it twice).
    pub async fn add_address(
        &self,
        ctx: &CallContext,
        user_id: Uuid,
        address: &AddressDto,
    ) -> Result<SavedAddressDto, AppError> {
        self.client
            .post(&format!("/v1/users/{user_id}/addresses"))
            .json(address)?
            .send(ctx)
            .await
    }

    /// Replaces a saved address.
    pub async fn update_address(
        &self,
        ctx: &CallContext,
        user_id: Uuid,
        address_id: Uuid,
        address: &AddressDto,
    ) -> Result<SavedAddressDto, AppError> {
        let path = format!("/v1/users/{user_id}/addresses/{address_id}");
        let call = self.client.call(http::Method::PUT, &path);
        call.json(address)?.idempotent().send(ctx).await
    }

    /// Removes a saved address; the oldest remaining one becomes the default if it was.
    pub async fn remove_address(
        &self,
        ctx: &CallContext,
        user_id: Uuid,
        address_id: Uuid,
    ) -> Result<(), AppError> {
        let path = format!("/v1/users/{user_id}/addresses/{address_id}");
        self.client
            .call(http::Method::DELETE, &path)
            .send_empty(ctx)
            .await
    }

    /// Makes a saved address the user's default.
    pub async fn set_default_address(
        &self,
        ctx: &CallContext,
        user_id: Uuid,
        address_id: Uuid,
    ) -> Result<SavedAddressDto, AppError> {
        let path = format!("/v1/users/{user_id}/addresses/{address_id}/default");
        let call = self.client.call(http::Method::PUT, &path);
        call.idempotent().send(ctx).await
    }
}
