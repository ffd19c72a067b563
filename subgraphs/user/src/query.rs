//! Reads: the signed-in user, one user, the user list, and the `User` entity for federation.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object};
use quickmart_shared::AppError;
use quickmart_shared::auth::Caller;
use quickmart_shared::graphql::{AdminOnly, PageInfo, request_context};
use quickmart_shared::pagination::PageSize;
use user_contract::api::UserQuery;
use uuid::Uuid;

use crate::loader::UserLoader;
use crate::types::{User, UserConnection, UserEdge};

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
        };
        let page = services(ctx)?
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
            total_count: i32::try_from(page.total_count).unwrap_or(i32::MAX),
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

/// A user by id through the request's DataLoader (and the cache behind it).
async fn load_user(ctx: &Context<'_>, id: Uuid) -> Result<Option<User>, AppError> {
    let loader = ctx
        .data::<DataLoader<UserLoader>>()
        .map_err(|_| AppError::internal("user loader missing from the GraphQL request"))?;
    Ok(loader
        .load_one(id)
        .await
        .map_err(AppError::unshare)?
        .map(User))
}

/// The process-wide services.
pub(crate) fn services<'a>(ctx: &Context<'a>) -> Result<&'a crate::Services, AppError> {
    ctx.data::<std::sync::Arc<crate::Services>>()
        .map(AsRef::as_ref)
        .map_err(|_| AppError::internal("services missing from the GraphQL schema"))
}

/// A GraphQL `ID` that must be a UUID, or `BAD_USER_INPUT` naming `field`.
pub(crate) fn parse_id(id: &ID, field: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id.as_str()).map_err(|_| AppError::invalid(field, "is not a valid id"))
}
