//! The OpenAPI document and Swagger UI every core serves (`/openapi.json`, `/docs`), with no internet needed.
//!
//! A core's routes describe what is theirs (bodies, parameters, the statuses their handlers answer); [`finish`]
//! adds what every core's API shares, so no route can forget it (`docs/ARCHITECTURE.md`, "OpenAPI documents"):
//! the internal-token scheme, the problem responses of the shared extractors and layers, and the text rule that
//! refuses control characters in every string a core accepts.

use axum::Router;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ArrayItems, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, RefOr, Response};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::PROBLEM_JSON;

/// Name of the security scheme of the internal token.
const INTERNAL_TOKEN_SCHEME: &str = "internal_token";

/// The pattern of every string a core accepts that states no stricter one: no control character except TAB,
/// LF and CR ([`crate::text::multi_line`]).
pub const MULTI_LINE_TEXT: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";
/// Format of a one-line text that may be blank (`crate::text::optional_line`); [`finish`] gives it [`LINE`].
pub const LINE_FORMAT: &str = "line";
/// Pattern of [`LINE_FORMAT`]: no control character at all.
pub const LINE: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";
/// Format of a one-line text that must hold a visible character (`crate::text::required_line`, which trims
/// it); [`finish`] gives it [`NONBLANK_LINE`].
pub const NONBLANK_LINE_FORMAT: &str = "nonblank-line";
/// Pattern of [`NONBLANK_LINE_FORMAT`]: no control character, and one character that is not white space as
/// Rust's `str::trim` sees it (spelled out, since `\s` differs between regular-expression engines).
pub const NONBLANK_LINE: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$";
/// Pattern of a UUID as the cores write it (hyphenated), stated beside `format: uuid`, which JSON Schema
/// validators treat as a mere annotation.
pub const UUID: &str =
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// A core's whole document: its routes' description, finished by [`finish`]. `quickmart openapi` writes this,
/// and [`core_router`] serves the same.
pub fn document<S: Clone + Send + Sync + 'static>(
    api: utoipa_axum::router::OpenApiRouter<S>,
) -> OpenApi {
    finish(api.into_openapi())
}

/// Adds what every core's API shares to `document` (see the module's documentation).
pub fn finish(mut document: OpenApi) -> OpenApi {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        INTERNAL_TOKEN_SCHEME,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            crate::internal::INTERNAL_TOKEN_HEADER,
            "The shared internal token (`INTERNAL_API_TOKEN`).",
        ))),
    );
    document.security = Some(vec![SecurityRequirement::new(
        INTERNAL_TOKEN_SCHEME,
        Vec::<String>::new(),
    )]);
    // Only what a core accepts is text input: schemas reachable from request bodies, and parameters.
    let mut accepted = Vec::new();
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_shared_problems(operation);
            if let Some(RefOr::T(body)) = &mut operation.request_body {
                for content in body.content.values_mut() {
                    if let RefOr::T(Content {
                        schema: Some(schema),
                        ..
                    }) = content
                    {
                        constrain_text(schema);
                        referenced(schema, &mut accepted);
                    }
                }
            }
            for parameter in operation.parameters.iter_mut().flatten() {
                let RefOr::T(parameter) = parameter else {
                    continue;
                };
                let is_header = matches!(parameter.parameter_in, ParameterIn::Header);
                let Some(RefOr::T(schema)) = &mut parameter.schema else {
                    continue;
                };
                if is_header && parameter.name == crate::internal::ACTOR_HEADER {
                    // The one spelling `ActorHeaders` parses, stated where every route that reads it is seen.
                    if let Schema::Object(object) = schema {
                        object.pattern = Some(crate::internal::ACTOR_PATTERN.to_owned());
                    }
                } else if !is_header {
                    // Headers are not text input (HTTP itself refuses control characters in them).
                    constrain_text_schema(schema);
                }
            }
        }
    }
    let schemas = &mut components.schemas;
    let mut constrained = std::collections::BTreeSet::new();
    while let Some(name) = accepted.pop() {
        if constrained.insert(name.clone())
            && let Some(schema) = schemas.get_mut(&name)
        {
            constrain_text(schema);
            referenced(schema, &mut accepted);
        }
    }
    document
}

/// Pushes the name of every component schema `schema` refers to onto `names`.
fn referenced(schema: &RefOr<Schema>, names: &mut Vec<String>) {
    let schema = match schema {
        RefOr::Ref(reference) => {
            if let Some(name) = reference.ref_location.strip_prefix("#/components/schemas/") {
                names.push(name.to_owned());
            }
            return;
        }
        RefOr::T(schema) => schema,
    };
    match schema {
        Schema::Object(object) => object
            .properties
            .values()
            .for_each(|property| referenced(property, names)),
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &array.items {
                referenced(items, names);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter().for_each(|item| referenced(item, names)),
        Schema::AllOf(all_of) => all_of.items.iter().for_each(|item| referenced(item, names)),
        Schema::AnyOf(any_of) => any_of.items.iter().for_each(|item| referenced(item, names)),
        _ => {}
    }
}

/// The problem responses any route can answer through the shared extractors and layers, added where a route
/// does not describe them itself.
fn add_shared_problems(operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query)));
    let has_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut shared: Vec<(&str, &str)> = vec![
        ("401", "The `x-internal-token` header is missing or wrong"),
        (
            "503",
            "A dependency (the database, another core) is unavailable; retry later",
        ),
        (
            "500",
            "An unexpected failure; `requestId` names it in the logs",
        ),
    ];
    if has_body || has_parameters {
        shared.push((
            "400",
            "Malformed request: unparseable JSON, a value of the wrong type, a malformed path, query or header \
             parameter, or a body without `Content-Type: application/json`",
        ));
    }
    if has_body || has_query {
        shared.push((
            "422",
            "Invalid values (control characters included), each named in `errors[].field`",
        ));
    }
    if has_body {
        shared.push(("413", "The body is over `HTTP_MAX_BODY_BYTES`"));
    }
    for (status, description) in shared {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(problem_response(description)));
    }
}

/// A response carrying a problem document.
fn problem_response(description: &str) -> Response {
    let problem = RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Problem"));
    let mut response = Response::new(description);
    response.content.insert(
        PROBLEM_JSON.to_owned(),
        RefOr::T(Content::new(Some(problem))),
    );
    response
}

/// Gives every string in `schema` the pattern that states how the shared extractors and text checks treat it:
/// [`UUID`] for `format: uuid`, [`LINE`] and [`NONBLANK_LINE`] for QuickMart's two line formats, and
/// [`MULTI_LINE_TEXT`] for any other text (secrets included) without a pattern or enumeration of its own.
fn constrain_text(schema: &mut RefOr<Schema>) {
    if let RefOr::T(schema) = schema {
        constrain_text_schema(schema);
    }
}

/// [`constrain_text`] on a schema given inline.
fn constrain_text_schema(schema: &mut Schema) {
    use utoipa::openapi::KnownFormat;
    match schema {
        Schema::Object(object) => {
            let is_string = match &object.schema_type {
                SchemaType::Type(Type::String) => true,
                SchemaType::Array(types) => types.contains(&Type::String),
                _ => false,
            };
            if is_string && object.pattern.is_none() && object.enum_values.is_none() {
                object.pattern = match &object.format {
                    None | Some(SchemaFormat::KnownFormat(KnownFormat::Password)) => {
                        Some(MULTI_LINE_TEXT)
                    }
                    Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)) => Some(UUID),
                    Some(SchemaFormat::Custom(format)) if format == LINE_FORMAT => Some(LINE),
                    Some(SchemaFormat::Custom(format)) if format == NONBLANK_LINE_FORMAT => {
                        Some(NONBLANK_LINE)
                    }
                    Some(_) => None,
                }
                .map(str::to_owned);
            }
            for property in object.properties.values_mut() {
                constrain_text(property);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                constrain_text(items);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(constrain_text),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(constrain_text),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(constrain_text),
        _ => {}
    }
}

/// Serves `document` at `/openapi.json` and Swagger UI (bundled assets) at `/docs`.
pub fn docs_routes(document: OpenApi) -> Router {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", document))
}

/// The whole router of a core: its documented API behind the internal token, then health, metrics and the
/// docs (open), all instrumented as `service`. Every core is assembled this way.
pub fn core_router(
    service: crate::ServiceId,
    api: utoipa_axum::router::OpenApiRouter,
    internal_token: secrecy::SecretString,
    readiness: crate::health::ReadinessCheck,
) -> Router {
    core_router_with_public(service, api, Router::new(), internal_token, readiness)
}

/// As [`core_router`], with `public` routes that take no internal token because they authenticate their callers
/// otherwise (order-core's signed payment webhook); they are not in the OpenAPI document.
pub fn core_router_with_public(
    service: crate::ServiceId,
    api: utoipa_axum::router::OpenApiRouter,
    public: Router,
    internal_token: secrecy::SecretString,
    readiness: crate::health::ReadinessCheck,
) -> Router {
    let (api, document) = api.split_for_parts();
    let router = crate::internal::require_internal_token(api, internal_token)
        .merge(public)
        .merge(crate::health::routes(readiness))
        .merge(docs_routes(finish(document)));
    crate::telemetry::instrument(router, service.name())
}
