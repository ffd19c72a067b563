//! What makes a core's API internal: the shared `x-internal-token`, and the acting user passed by the subgraph
//! as `x-actor: <ROLE> <user id>`.

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::middleware::Next;
use axum::response::IntoResponse;
use http::request::Parts;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::error::AppError;

/// Header carrying the internal token.
pub const INTERNAL_TOKEN_HEADER: &str = "x-internal-token";
/// Header carrying the acting user as `<ROLE> <user id>`, e.g. `CUSTOMER 0190e4c6-…`: one header, so that a
/// role can never travel without its user nor a user without its role.
pub const ACTOR_HEADER: &str = "x-actor";
/// The pattern of [`ACTOR_HEADER`]'s value, exactly as [`ActorHeaders`] parses it.
pub const ACTOR_PATTERN: &str = "^(CUSTOMER|ADMIN) [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// Header carrying the end client's address, as the gateway derived it; believed only with the internal token.
pub const CLIENT_IP_HEADER: &str = "x-quickmart-client-ip";

/// Requires `x-internal-token` on every route of `router` (add health, metrics and docs after this).
pub fn require_internal_token(router: Router, token: SecretString) -> Router {
    router.route_layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let token = token.clone();
            async move {
                let presented = request
                    .headers()
                    .get(INTERNAL_TOKEN_HEADER)
                    .map(|v| v.as_bytes());
                match presented {
                    Some(presented) if token_matches(presented, &token) => next.run(request).await,
                    Some(_) => AppError::Unauthenticated("the internal token is wrong".to_owned())
                        .into_response(),
                    None => AppError::Unauthenticated(format!(
                        "the `{INTERNAL_TOKEN_HEADER}` header is required"
                    ))
                    .into_response(),
                }
            }
        },
    ))
}

/// Whether `presented` is the internal token, compared in constant time.
pub fn token_matches(presented: &[u8], token: &SecretString) -> bool {
    subtle::ConstantTimeEq::ct_eq(presented, token.expose_secret().as_bytes()).into()
}

/// The acting user a subgraph passed along in [`ACTOR_HEADER`], if any; a malformed value is a 400.
#[derive(Debug, Clone, Copy)]
pub struct ActorHeaders(pub Option<Actor>);

impl ActorHeaders {
    /// The header value that carries `actor`.
    pub fn value(actor: &Actor) -> String {
        format!("{} {}", actor.role.as_str(), actor.id.hyphenated())
    }

    /// Parses a header value written by [`ActorHeaders::value`]; nothing else (no other UUID spelling) passes.
    pub fn parse(value: &[u8]) -> Result<Actor, AppError> {
        let malformed = || {
            AppError::malformed(
                Some(ACTOR_HEADER),
                "must be `<CUSTOMER|ADMIN> <user id>` with a hyphenated UUID",
            )
        };
        let value = std::str::from_utf8(value).map_err(|_| malformed())?;
        let (role, id) = value.split_once(' ').ok_or_else(malformed)?;
        let role = role.parse::<Role>().map_err(|_| malformed())?;
        if id.len() != 36 {
            return Err(malformed());
        }
        let id = Uuid::try_parse(id).map_err(|_| malformed())?;
        Ok(Actor { id, role })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ActorHeaders {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(ACTOR_HEADER) {
            None => Ok(Self(None)),
            Some(value) => Self::parse(value.as_bytes()).map(|actor| Self(Some(actor))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_actor_travels_as_one_header_and_only_in_its_one_spelling() {
        let actor = Actor {
            id: Uuid::now_v7(),
            role: Role::Admin,
        };
        let value = ActorHeaders::value(&actor);
        assert_eq!(ActorHeaders::parse(value.as_bytes()).ok(), Some(actor));
        let id = actor.id;
        for refused in [
            "ADMIN".to_owned(),
            id.to_string(),
            format!("admin {id}"),
            format!("ADMIN  {id}"),
            format!("ADMIN {id} "),
            format!("ADMIN {}", id.simple()),
            format!("ADMIN {}", id.braced()),
            format!("ADMIN {}", id.urn()),
            format!("OWNER {id}"),
        ] {
            assert!(
                ActorHeaders::parse(refused.as_bytes()).is_err(),
                "{refused:?} should be refused"
            );
        }
        assert!(ActorHeaders::parse(b"ADMIN \xff").is_err());
    }
}
