//! The REST contract of user-core: request and response bodies. OpenAPI derives come with the `openapi`
//! feature, which user-core enables and clients need not.

use chrono::{DateTime, Utc};
pub use quickmart_shared::address::AddressDto;
use quickmart_shared::auth::Role;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An account as other services see it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserDto {
    /// User id (UUID v7).
    pub id: Uuid,
    /// E-mail address, lower-cased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// When the account was created.
    #[serde(with = "quickmart_shared::timestamp")]
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    #[serde(with = "quickmart_shared::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change to the account; caches use it never to go back in time.
    #[serde(default)]
    pub version: i64,
    /// The version of the account's sessions: access tokens minted with an older one are refused. A new role,
    /// a new password and ending every session bump it.
    #[serde(default)]
    pub token_version: i64,
}

/// Body of `POST /v1/users`.
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// E-mail address (trimmed and lower-cased; at most 254 characters as sent); unique regardless of case.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 254,
            pattern = r"^[\t\n\r \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000<>,;@]+@[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000<>,;@.]+(\.[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000<>,;@.]+)+[\t\n\r \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
        )
    )]
    pub email: String,
    /// 10 to 256 characters, not all of one class (lower case, upper case, digits, others).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password, min_length = 10, max_length = 256))]
    #[serde(serialize_with = "expose")]
    pub password: SecretString,
    /// Display name (1–100 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, format = "nonblank-line")
    )]
    pub name: String,
}

/// Body of `POST /v1/users/verify-credentials`.
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyCredentials {
    /// E-mail address (any case).
    pub email: String,
    /// The password to check.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    #[serde(serialize_with = "expose")]
    pub password: SecretString,
}

/// Body of `POST /v1/users/lookup`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LookupUsers {
    /// Up to 1000 ids; unknown ones are left out of the answer.
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub ids: Vec<Uuid>,
}

/// Answer of `POST /v1/users/lookup`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserList {
    /// The users found.
    pub items: Vec<UserDto>,
}

/// Query of `GET /v1/users`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UserQuery {
    /// Page size, 1–100 (default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Whether to count every match for `total_count` (default true); `false` skips that count, the costliest
    /// part of a page, for a caller that shows no total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_total: Option<bool>,
    /// Cursor of the last item of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// One page of users, newest first.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPage {
    /// The users with their cursors, in order.
    pub items: Vec<UserEdge>,
    /// Whether another page follows.
    pub has_more: bool,
    /// How many users there are in all; absent when the request said `with_total=false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
}

/// A user and its position in the list.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserEdge {
    /// Pass as `after` to continue after this user.
    pub cursor: String,
    /// The user.
    pub user: UserDto,
}

/// Body of `PATCH /v1/users/{id}`: only the fields given change.
#[derive(Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// New display name.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, format = "nonblank-line")
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The current password; required with `new_password`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Password))]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_option"
    )]
    pub current_password: Option<SecretString>,
    /// New password (same policy as at creation); changing it revokes every refresh token of the user.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Password, min_length = 10, max_length = 256))]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_option"
    )]
    pub new_password: Option<SecretString>,
}

/// Body of `PUT /v1/users/{id}/role`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    /// The new role.
    pub role: Role,
}

/// Body of `POST /v1/refresh-tokens`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IssueRefreshToken {
    /// The user the new session belongs to.
    pub user_id: Uuid,
}

/// Body of `POST /v1/refresh-tokens/rotate` and `POST /v1/refresh-tokens/revoke`.
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PresentRefreshToken {
    /// The opaque refresh token.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    #[serde(serialize_with = "expose")]
    pub refresh_token: SecretString,
}

/// A newly issued refresh token: shown once, stored only as a hash.
#[derive(Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedRefreshToken {
    /// The opaque token to present to `rotate` or `revoke`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    #[serde(serialize_with = "expose")]
    pub refresh_token: SecretString,
    /// When it stops working.
    #[serde(with = "quickmart_shared::timestamp")]
    pub expires_at: DateTime<Utc>,
    /// The user it belongs to, as of now (for the access token's role).
    pub user: UserDto,
}

/// Answer of `POST /v1/refresh-tokens/revoke`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revoked {
    /// Whether a live session was ended (false for an unknown or already revoked token).
    pub revoked: bool,
}

/// Secrets cross the wire only in request and answer bodies; `Debug` and logs keep showing them redacted.
fn expose<S: serde::Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    serializer.serialize_str(secret.expose_secret())
}

fn expose_option<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => expose(secret, serializer),
        None => serializer.serialize_none(),
    }
}

/// Most addresses one user's address book holds.
pub const MAX_ADDRESSES: usize = 20;

/// One address of a user's address book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedAddressDto {
    /// Address id (UUID v7).
    pub id: Uuid,
    /// Whether this is the user's default address (exactly one is, while the book is not empty).
    pub is_default: bool,
    /// The address.
    pub address: AddressDto,
    /// When it was added.
    #[serde(with = "quickmart_shared::timestamp")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(with = "quickmart_shared::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// A user's address book, in the order the addresses were added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressBook {
    /// At most [`MAX_ADDRESSES`].
    pub items: Vec<SavedAddressDto>,
}
