//! What makes a core's API internal: the shared `x-internal-token`, and the acting user passed by the subgraph
//! as `x-actor-id` / `x-actor-role`.

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::error::AppError;

/// Header carrying the internal token.
pub const INTERNAL_TOKEN_HEADER: &str = "x-internal-token";
/// Header carrying the acting user's id.
pub const ACTOR_ID_HEADER: &str = "x-actor-id";
/// Header carrying the acting user's role.
pub const ACTOR_ROLE_HEADER: &str = "x-actor-role";
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

/// The acting user a subgraph passed along, if any; malformed headers are a 400.
#[derive(Debug, Clone, Copy)]
pub struct ActorHeaders(pub Option<Actor>);

impl<S: Send + Sync> FromRequestParts<S> for ActorHeaders {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .map(|v| v.to_str().unwrap_or("\u{0}"))
        };
        match (header(ACTOR_ID_HEADER), header(ACTOR_ROLE_HEADER)) {
            (None, None) => Ok(Self(None)),
            (Some(id), Some(role)) => {
                let id = Uuid::parse_str(id).map_err(|_| {
                    AppError::malformed(Some(ACTOR_ID_HEADER), "must be a UUID").into_response()
                })?;
                let role = role
                    .parse::<Role>()
                    .map_err(|e| AppError::malformed(Some(ACTOR_ROLE_HEADER), e).into_response())?;
                Ok(Self(Some(Actor { id, role })))
            }
            _ => Err(
                AppError::malformed(None, "`x-actor-id` and `x-actor-role` go together")
                    .into_response(),
            ),
        }
    }
}
