//! What every subgraph shares: the request context (caller, request id), guards, shareable value types, the
//! extension that turns [`AppError`]s into `extensions.code`, and the HTTP handler.

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::{
    Context, Guard, ObjectType, Response, Schema, ServerError, SimpleObject, SubscriptionType,
    Value,
};
use async_graphql_axum::GraphQLResponse;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequest, State};
use axum::response::IntoResponse;
use axum::routing::post;
use http::{Extensions, HeaderMap};
use secrecy::SecretString;

use crate::auth::{Actor, Caller, JwtVerifier};
use crate::client::CallContext;
use crate::error::AppError;
use crate::telemetry::RequestMeta;

/// What a resolver knows about the request it serves.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Who is calling.
    pub caller: Caller,
    /// The request id and trace context.
    pub meta: RequestMeta,
    /// The end client's address: what the gateway derived (`x-quickmart-client-ip`, believed only with the
    /// internal token), else the TCP peer. `X-Forwarded-For` is never read: any client can write it.
    pub client_ip: Option<String>,
}

impl RequestContext {
    /// The context for calls to a core on behalf of this request.
    pub fn call_context(&self) -> CallContext {
        CallContext {
            actor: self.caller.actor(),
            meta: Some(self.meta.clone()),
        }
    }

    /// The signed-in actor, or `UNAUTHENTICATED`.
    pub fn require_user(&self) -> Result<Actor, AppError> {
        self.caller
            .actor()
            .ok_or_else(|| AppError::Unauthenticated("sign in first".to_owned()))
    }

    /// The signed-in admin, or `UNAUTHENTICATED` / `FORBIDDEN`.
    pub fn require_admin(&self) -> Result<Actor, AppError> {
        let actor = self.require_user()?;
        if actor.is_admin() {
            Ok(actor)
        } else {
            Err(AppError::Forbidden(
                "this operation is for admins".to_owned(),
            ))
        }
    }
}

/// The request context of a resolver.
pub fn request_context<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext, AppError> {
    ctx.data::<RequestContext>()
        .map_err(|_| AppError::internal("request context missing from the GraphQL request"))
}

/// Whether the connection a resolver returns has its `totalCount` selected: counting every match is the
/// costliest part of a page, so cores count only when asked (`with_total`).
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// A core's `total_count` as a GraphQL `Int` (0 when it was not counted, which then nobody selected).
pub fn total_count(counted: Option<i64>) -> i32 {
    counted.map_or(0, |n| i32::try_from(n).unwrap_or(i32::MAX))
}

/// Parses a GraphQL `ID` that must be a UUID, naming `field` when it is not.
pub fn parse_id(id: &async_graphql::ID, field: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id.as_str()).map_err(|_| AppError::invalid(field, "is not a valid id"))
}

/// Deepest operation a subgraph runs. The gateway admits 12 levels (15 through introspection) and wraps an
/// entity fetch in `_entities`; anything deeper did not come through the gateway.
pub const SUBGRAPH_MAX_DEPTH: usize = 20;
/// Most fields one operation may select at a subgraph (async-graphql counts one per field, once however many
/// representations an `_entities` batch carries): above the gateway's 5 000 expanded selections.
pub const SUBGRAPH_MAX_COMPLEXITY: usize = 10_000;

/// The schema builder every subgraph starts from: federation, and depth and complexity limits as defence in
/// depth behind the gateway's. It has no schema extension: with any extension registered, async-graphql sends
/// every field through the extension chain (a boxed future and two registry look-ups per field), which was
/// about a tenth of a page's cost; error codes are added once per response by [`annotate_errors`] instead.
pub fn subgraph_schema<Q, M, S>(
    query: Q,
    mutation: M,
    subscription: S,
) -> async_graphql::SchemaBuilder<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Schema::build(query, mutation, subscription)
        .enable_federation()
        .limit_depth(SUBGRAPH_MAX_DEPTH)
        .limit_complexity(SUBGRAPH_MAX_COMPLEXITY)
}

/// The GraphQL spelling of a field a core names in snake case (`category_id` → `categoryId`), for errors.
pub fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Guard: the caller is signed in.
pub struct SignedIn;

impl Guard for SignedIn {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        request_context(ctx)?.require_user()?;
        Ok(())
    }
}

/// Guard: the caller is a signed-in admin.
pub struct AdminOnly;

impl Guard for AdminOnly {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        request_context(ctx)?.require_admin()?;
        Ok(())
    }
}

/// An amount of money in minor units of the store's currency.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject, serde::Serialize, serde::Deserialize)]
#[graphql(shareable)]
pub struct Money {
    /// Minor units (cents).
    pub amount: i32,
    /// ISO 4217 code of the store's currency.
    pub currency: String,
}

impl Money {
    /// Money from a database amount; amounts are validated on the way in, so one that does not fit a GraphQL
    /// `Int` here is a bug.
    pub fn from_minor(amount: i64, currency: &str) -> Result<Self, AppError> {
        let amount = i32::try_from(amount).map_err(|_| {
            AppError::internal(format!("amount {amount} does not fit a GraphQL Int"))
        })?;
        Ok(Self {
            amount,
            currency: currency.to_owned(),
        })
    }
}

/// Relay page information.
#[derive(Debug, Clone, Default, PartialEq, Eq, SimpleObject)]
#[graphql(shareable)]
pub struct PageInfo {
    /// Whether another page follows.
    pub has_next_page: bool,
    /// Cursor of the last edge, to pass as `after`.
    pub end_cursor: Option<String>,
}

/// A postal address: one of a customer's saved addresses (with its `id`), or an order's shipping snapshot
/// (`id` null: the snapshot stays as it was when the order was placed).
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
#[graphql(shareable)]
pub struct Address {
    /// Set for a saved address; null in an order's snapshot.
    pub id: Option<async_graphql::ID>,
    /// Recipient.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// More of the address.
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

impl Address {
    /// The address of `dto`, saved under `id` or (with `None`) a snapshot.
    pub fn new(id: Option<uuid::Uuid>, dto: crate::address::AddressDto) -> Self {
        Self {
            id: id.map(|id| async_graphql::ID(id.to_string())),
            name: dto.name,
            line1: dto.line1,
            line2: dto.line2,
            city: dto.city,
            postal_code: dto.postal_code,
            country: dto.country,
        }
    }
}

/// A postal address to ship to or to save.
#[derive(Debug, Clone, async_graphql::InputObject)]
pub struct AddressInput {
    /// Recipient (1–200 characters).
    pub name: String,
    /// Street and number (1–200 characters).
    pub line1: String,
    /// More of the address (up to 200 characters).
    pub line2: Option<String>,
    /// City (1–100 characters).
    pub city: String,
    /// Postal code (1–20 characters).
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code, e.g. `DE`.
    pub country: String,
}

impl From<AddressInput> for crate::address::AddressDto {
    fn from(a: AddressInput) -> Self {
        Self {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            postal_code: a.postal_code,
            // The cores take the code as the contract enumerates it; people type `de` and ` DE`.
            country: a.country.trim().to_ascii_uppercase(),
        }
    }
}

/// Gives every error of `response` that carries an [`AppError`] its `extensions.code` (and `field`,
/// `productId`, `retryAfter`, `reason`), logs internal errors once, and hides their cause.
pub fn annotate_errors(mut response: Response) -> Response {
    for error in &mut response.errors {
        annotate(error);
    }
    response
}

fn annotate(error: &mut ServerError) {
    let Some(source) = error.source.clone() else {
        return;
    };
    // DataLoader errors must be `Clone`, so they arrive as `Arc<AppError>`.
    let Some(app_error) = source.downcast_ref::<AppError>().or_else(|| {
        source
            .downcast_ref::<Arc<AppError>>()
            .map(|shared| shared.as_ref())
    }) else {
        return;
    };
    app_error.log();
    let message = app_error.public_message();
    let mut extensions = error.extensions.take().unwrap_or_default();
    extensions.set("code", app_error.code().as_str());
    let fields = app_error.field_errors();
    if let Some(first) = fields.first() {
        extensions.set("field", first.field.clone());
    }
    if fields.len() > 1 {
        let all: Vec<Value> = fields
            .iter()
            .map(|f| {
                let mut map = async_graphql::indexmap::IndexMap::new();
                map.insert(
                    async_graphql::Name::new("field"),
                    Value::from(f.field.clone()),
                );
                map.insert(
                    async_graphql::Name::new("message"),
                    Value::from(f.message.clone()),
                );
                Value::Object(map)
            })
            .collect();
        extensions.set("fieldErrors", Value::List(all));
    }
    match app_error {
        AppError::OutOfStock { product_id } => extensions.set("productId", product_id.to_string()),
        AppError::RateLimited { retry_after_secs } => {
            extensions.set("retryAfter", *retry_after_secs);
        }
        AppError::PaymentDeclined { reason } => extensions.set("reason", reason.clone()),
        _ => {}
    }
    error.message = message;
    error.extensions = Some(extensions);
}

/// A GraphQL response carrying only `error` (a request refused before execution, e.g. a bad token).
pub fn error_response(error: &AppError) -> Response {
    error.log();
    let mut server_error = ServerError::new(error.public_message(), None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", error.code().as_str());
    server_error.extensions = Some(extensions);
    Response::from_errors(vec![server_error])
}

/// Tells the current token version of an account, so that every subgraph refuses the access tokens of ended
/// sessions (docs/ARCHITECTURE.md, "Rules of the domain"). The user module implements it; `shared` only asks.
#[async_trait::async_trait]
pub trait Sessions: Send + Sync {
    /// The account's current token version; `UNAUTHENTICATED` when the account does not exist.
    async fn current_version(&self, user: uuid::Uuid, ctx: &CallContext) -> Result<i64, AppError>;
}

/// Refuses a token minted before its account's current token version.
async fn check_session(
    sessions: &dyn Sessions,
    claims: &crate::auth::Claims,
    context: &RequestContext,
) -> Result<(), AppError> {
    let current = sessions
        .current_version(claims.sub, &context.call_context())
        .await?;
    if claims.ver < current {
        metrics::counter!("session_tokens_refused_total").increment(1);
        return Err(AppError::Unauthenticated(
            "this session has ended (signed out everywhere, or the role or password changed); sign in again"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Adds per-request data (DataLoaders, clients) to a GraphQL request.
pub type PerRequest =
    Arc<dyn Fn(async_graphql::Request, &RequestContext) -> async_graphql::Request + Send + Sync>;

struct SubgraphState<Q, M, S> {
    schema: Schema<Q, M, S>,
    /// The same schema validating only what can change between runs of one text: the depth and complexity
    /// limits (async-graphql's `ValidationMode::Fast`); used for texts [`ParsedQueries`] knows passed.
    validated: Schema<Q, M, S>,
    verifier: Arc<JwtVerifier>,
    internal_token: SecretString,
    per_request: PerRequest,
    sessions: Arc<dyn Sessions>,
    parsed: Arc<ParsedQueries>,
}

impl<Q, M, S> Clone for SubgraphState<Q, M, S> {
    fn clone(&self) -> Self {
        Self {
            schema: self.schema.clone(),
            validated: self.validated.clone(),
            verifier: Arc::clone(&self.verifier),
            internal_token: self.internal_token.clone(),
            per_request: Arc::clone(&self.per_request),
            sessions: Arc::clone(&self.sessions),
            parsed: Arc::clone(&self.parsed),
        }
    }
}

/// Parsed operations by their text, and whether each passed validation. The gateway sends the same few operation
/// texts over and over, and parsing is a large share of a cached read, so each text is parsed once. Validating is
/// another 3–5 % of a page, and its outcome for a text run without variables or operation name is fixed (the
/// schema does not change while the process runs), so such a text that validated once skips the rules after.
/// So is the outcome for an entity fetch whose only variables are its `[_Any!]!` representations: the one rule
/// that reads variable values (async-graphql's `ArgumentsOfCorrectType`) finds every value a valid `_Any`, and
/// refuses only a null list or element, which execution refuses as well. Every other variable makes a text's
/// outcome depend on its values, and such a text is validated on every run.
struct ParsedQueries(std::sync::Mutex<lru::LruCache<String, ParsedQuery>>);

#[derive(Clone)]
struct ParsedQuery {
    document: async_graphql::parser::types::ExecutableDocument,
    /// It passed every validation rule when run without operation name, and without variables or with only
    /// representations.
    validated: bool,
    /// Every variable it declares is an entity fetch's representations (`[_Any!]!`).
    only_representations: bool,
}

/// Whether every variable `document` declares has the type of an entity fetch's representations, `[_Any!]!`.
fn declares_only_representations(
    document: &async_graphql::parser::types::ExecutableDocument,
) -> bool {
    document.operations.iter().all(|(_, operation)| {
        operation
            .node
            .variable_definitions
            .iter()
            .all(|definition| definition.node.var_type.node.to_string() == "[_Any!]!")
    })
}

/// Operation texts kept parsed per subgraph.
const PARSED_QUERY_CAPACITY: usize = 512;
/// Longer operation texts are parsed every time rather than kept.
const MAX_CACHED_QUERY_BYTES: usize = 16 * 1024;

/// How a request's text was found in [`ParsedQueries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Not kept (too long, or not parseable), or it carries an operation name or variables other than
    /// representations.
    No,
    /// Kept, not yet seen to validate.
    Parsed,
    /// Kept, and it validated before when run as this request is (no operation name; no variables, or only
    /// representations).
    Validated,
}

impl ParsedQueries {
    fn new() -> Self {
        let capacity = std::num::NonZeroUsize::new(PARSED_QUERY_CAPACITY)
            .unwrap_or(std::num::NonZeroUsize::MIN);
        Self(std::sync::Mutex::new(lru::LruCache::new(capacity)))
    }

    /// Attaches the parsed form of `request`'s text, parsing and keeping it on first sight. A text that does not
    /// parse is left for execution to report.
    fn attach(&self, request: &mut async_graphql::Request) -> Known {
        if request.query.len() > MAX_CACHED_QUERY_BYTES {
            return Known::No;
        }
        let plain = |only_representations: bool| {
            request.operation_name.is_none()
                && (request.variables.is_empty() || only_representations)
        };
        let cached = self
            .0
            .lock()
            .ok()
            .and_then(|mut cache| cache.get(&request.query).cloned());
        if let Some(ParsedQuery {
            document,
            validated,
            only_representations,
        }) = cached
        {
            let plain = plain(only_representations);
            request.set_parsed_query(document);
            return match (plain, validated) {
                (false, _) => Known::No,
                (true, false) => Known::Parsed,
                (true, true) => Known::Validated,
            };
        }
        let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
            return Known::No;
        };
        let only_representations = declares_only_representations(&document);
        if let Ok(mut cache) = self.0.lock() {
            let parsed = ParsedQuery {
                document: document.clone(),
                validated: false,
                only_representations,
            };
            cache.put(request.query.clone(), parsed);
        }
        let plain = plain(only_representations);
        request.set_parsed_query(document);
        if plain { Known::Parsed } else { Known::No }
    }

    /// Records that `query`, run as [`Known::Parsed`] says it may be trusted after, passed validation.
    fn validated(&self, query: &str) {
        if let Ok(mut cache) = self.0.lock()
            && let Some(parsed) = cache.get_mut(query)
        {
            parsed.validated = true;
        }
    }
}

/// A subgraph's whole router, the same for every subgraph: [`subgraph_routes`] verifying tokens with `keys`,
/// the health and metrics routes, and the request telemetry labelled `service`. `schema` builds the subgraph's
/// schema with the validation mode it is given.
pub fn subgraph_router<Q, M, S>(
    service: &'static str,
    schema: impl Fn(async_graphql::ValidationMode) -> Schema<Q, M, S>,
    keys: &crate::auth::KeyMaterial,
    internal_token: SecretString,
    per_request: PerRequest,
    sessions: Arc<dyn Sessions>,
) -> Result<Router, crate::server::StartError>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let verifier = Arc::new(keys.verifier()?);
    let router = subgraph_routes(schema, verifier, internal_token, per_request, sessions)
        .merge(crate::health::routes(crate::health::always_ready()));
    Ok(crate::telemetry::instrument(router, service))
}

/// The `POST /graphql` route of a subgraph: authenticates the caller (an invalid token is `UNAUTHENTICATED`
/// even on public fields), builds the [`RequestContext`], lets `per_request` add its data, and executes.
/// `internal_token` is what the gateway presents with the client address it derived; `sessions` refuses the
/// tokens of ended sessions. `schema` builds the subgraph's schema with the validation mode it is given.
pub fn subgraph_routes<Q, M, S>(
    schema: impl Fn(async_graphql::ValidationMode) -> Schema<Q, M, S>,
    verifier: Arc<JwtVerifier>,
    internal_token: SecretString,
    per_request: PerRequest,
    sessions: Arc<dyn Sessions>,
) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let parsed = Arc::new(ParsedQueries::new());
    Router::new()
        .route("/graphql", post(execute::<Q, M, S>))
        .with_state(SubgraphState {
            schema: schema(async_graphql::ValidationMode::Strict),
            validated: schema(async_graphql::ValidationMode::Fast),
            verifier,
            internal_token,
            per_request,
            sessions,
            parsed,
        })
}

/// The client address the gateway derived, when the request carries it with the internal token.
fn gateway_client_ip(
    headers: &HeaderMap,
    internal_token: &SecretString,
) -> Option<std::net::IpAddr> {
    let presented = headers.get(crate::internal::INTERNAL_TOKEN_HEADER)?;
    if !crate::internal::token_matches(presented.as_bytes(), internal_token) {
        return None;
    }
    headers
        .get(crate::internal::CLIENT_IP_HEADER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// One GraphQL request in a JSON body, read straight into [`async_graphql::Request`]. async-graphql-axum's
/// extractor reads a single-or-batch enum, which serde decodes by buffering the whole body as untagged content
/// first: a twentieth of the services' CPU on the heavy query, whose `_entities` calls carry dozens of
/// representations. A subgraph takes no batches, no uploads and no GET, so it needs none of that.
struct GraphQLBody(async_graphql::Request);

impl<S: Send + Sync> FromRequest<S> for GraphQLBody {
    type Rejection = axum::response::Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        // Over the body limit, this is a bare 413 that `server::serve` turns into a problem document.
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        serde_json::from_slice(&body).map(Self).map_err(|error| {
            let error = AppError::malformed(
                None,
                format!("the body is not one GraphQL request in JSON: {error}"),
            );
            (
                http::StatusCode::BAD_REQUEST,
                GraphQLResponse::from(error_response(&error)),
            )
                .into_response()
        })
    }
}

async fn execute<Q, M, S>(
    State(state): State<SubgraphState<Q, M, S>>,
    headers: HeaderMap,
    extensions: Extensions,
    GraphQLBody(request): GraphQLBody,
) -> GraphQLResponse
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let claims = match state.verifier.claims_of(&headers) {
        Ok(claims) => claims,
        Err(error) => return error_response(&error).into(),
    };
    let caller = claims
        .as_ref()
        .map_or(Caller::Anonymous, |claims| Caller::User(claims.actor()));
    let meta = extensions
        .get::<RequestMeta>()
        .cloned()
        .unwrap_or_else(|| RequestMeta::from_headers(&headers));
    let client_ip = gateway_client_ip(&headers, &state.internal_token)
        .or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        })
        .map(|ip| ip.to_string());
    let context = RequestContext {
        caller,
        meta,
        client_ip,
    };
    if let Some(claims) = &claims
        && let Err(error) = check_session(&*state.sessions, claims, &context).await
    {
        return error_response(&error).into();
    }
    let mut request = (state.per_request)(request, &context).data(context);
    let response = match state.parsed.attach(&mut request) {
        Known::Validated => state.validated.execute(request).await,
        Known::Parsed => {
            let query = request.query.clone();
            let response = state.schema.execute(request).await;
            // Validation failures (the depth and complexity limits included) answer without data.
            if response.data != Value::Null {
                state.parsed.validated(&query);
            }
            response
        }
        Known::No => state.schema.execute(request).await,
    };
    annotate_errors(response).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_code_reaches_the_core_as_the_contract_enumerates_it() {
        let address = crate::address::AddressDto::from(AddressInput {
            name: "Ada".into(),
            line1: "1 Road".into(),
            line2: None,
            city: "London".into(),
            postal_code: "N1".into(),
            country: " gb ".into(),
        });
        assert_eq!(address.country, "GB");
    }

    /// Only a text run without operation name, and without variables it declares (but representations), can be
    /// known to validate, and only once it did.
    #[test]
    fn a_text_is_trusted_only_as_it_was_validated() {
        let parsed = ParsedQueries::new();
        let text = "{ __typename }";
        let plain = || async_graphql::Request::new(text);
        assert_eq!(parsed.attach(&mut plain()), Known::Parsed);
        assert_eq!(parsed.attach(&mut plain()), Known::Parsed);
        parsed.validated(text);
        assert_eq!(parsed.attach(&mut plain()), Known::Validated);
        let with_variables = || {
            plain().variables(async_graphql::Variables::from_json(
                serde_json::json!({ "x": 1 }),
            ))
        };
        // Variables a text does not declare are never read, so they change nothing.
        assert_eq!(parsed.attach(&mut with_variables()), Known::Validated);
        assert_eq!(
            parsed.attach(&mut plain().operation_name("Named")),
            Known::No
        );
        assert_eq!(
            parsed.attach(&mut async_graphql::Request::new("{")),
            Known::No
        );
        let long = format!("{{ __typename {} }}", " ".repeat(MAX_CACHED_QUERY_BYTES));
        assert_eq!(
            parsed.attach(&mut async_graphql::Request::new(long)),
            Known::No
        );
    }

    /// An entity fetch is trusted once it validated, whatever representations it carries after; a text with any
    /// other variable, or an operation name, never is.
    #[test]
    fn an_entity_fetch_is_trusted_whatever_its_representations() {
        let parsed = ParsedQueries::new();
        let run = |text: &str, variables: serde_json::Value| {
            async_graphql::Request::new(text)
                .variables(async_graphql::Variables::from_json(variables))
        };
        let fetch = "query($representations: [_Any!]!) { _entities(representations: $representations) { __typename } }";
        let product = |id: i64| serde_json::json!({ "representations": [{ "__typename": "Product", "id": id }] });
        assert_eq!(parsed.attach(&mut run(fetch, product(1))), Known::Parsed);
        parsed.validated(fetch);
        assert_eq!(parsed.attach(&mut run(fetch, product(2))), Known::Validated);
        assert_eq!(
            parsed.attach(&mut run(fetch, product(3)).operation_name("Named")),
            Known::No
        );
        for text in [
            "query($min: Int) { products(filter: { minPrice: $min }) { __typename } }",
            "query($representations: [_Any!]!, $n: Int) { _entities(representations: $representations) { __typename } }",
            "query($representations: [_Any]) { _entities(representations: $representations) { __typename } }",
        ] {
            let variables = serde_json::json!({ "min": 1, "n": 1, "representations": [] });
            assert_eq!(
                parsed.attach(&mut run(text, variables.clone())),
                Known::No,
                "{text}"
            );
            parsed.validated(text);
            assert_eq!(
                parsed.attach(&mut run(text, variables)),
                Known::No,
                "{text}"
            );
        }
    }

    #[test]
    fn the_client_address_is_believed_only_from_the_gateway() {
        let token = SecretString::from("internal");
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, http::HeaderValue::from_static(value));
            }
            map
        };
        let from_gateway = headers(&[
            ("x-internal-token", "internal"),
            ("x-quickmart-client-ip", "203.0.113.9"),
        ]);
        assert_eq!(
            gateway_client_ip(&from_gateway, &token),
            "203.0.113.9".parse().ok()
        );
        let forged = headers(&[
            ("x-internal-token", "guess"),
            ("x-quickmart-client-ip", "203.0.113.9"),
        ]);
        assert_eq!(gateway_client_ip(&forged, &token), None);
        // Row 10 of the hardening issue: `X-Forwarded-For` used to be believed from anyone.
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(gateway_client_ip(&forwarded, &token), None);
        let garbage = headers(&[
            ("x-internal-token", "internal"),
            ("x-quickmart-client-ip", "not-an-ip"),
        ]);
        assert_eq!(gateway_client_ip(&garbage, &token), None);
    }
}
