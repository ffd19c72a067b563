//! `/v1/reservations`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use quickmart_shared::AppError;
use quickmart_shared::error::Problem;
use quickmart_shared::extract::{ApiJson, ApiPath};
use uuid::Uuid;

use crate::api::{CreateReservation, ReservationDto};
use crate::db;
use crate::domain::{ReservationLines, ReservationTtl};
use crate::state::AppState;

/// What became of a reservation request, as `stock_reservations_total` labels it (the operations dashboard).
#[derive(Debug, Clone, Copy)]
pub(crate) enum ReservationOutcome {
    /// Stock newly held.
    Held,
    /// A repeated request answered with the first reservation.
    Repeated,
    /// Refused: out of stock, invalid lines, or the id holds other lines.
    Refused,
    /// Committed: the stock stays taken.
    Committed,
    /// Released and restocked.
    Released,
}

impl ReservationOutcome {
    const ALL: [Self; 5] = [
        Self::Held,
        Self::Repeated,
        Self::Refused,
        Self::Committed,
        Self::Released,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Repeated => "repeated",
            Self::Refused => "refused",
            Self::Committed => "committed",
            Self::Released => "released",
        }
    }

    fn count(self) {
        metrics::counter!("stock_reservations_total", "outcome" => self.label()).increment(1);
    }

    /// Every outcome's series, at zero, so the dashboard's rates start at 0 rather than absent.
    pub(crate) fn register_all() {
        for outcome in Self::ALL {
            metrics::counter!("stock_reservations_total", "outcome" => outcome.label())
                .increment(0);
        }
    }
}

/// Holds stock for every line, or for none.
#[utoipa::path(post, path = "/v1/reservations", tag = "reservations", request_body = CreateReservation,
    responses(
        (status = 201, description = "stock held", body = ReservationDto),
        (status = 200, description = "a repeated request with the same id: the first reservation", body = ReservationDto),
        (status = 409, description = "`OUT_OF_STOCK` (with `productId`), or the id holds other lines", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid lines, unknown or inactive product (naming the line)", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state, input), fields(lines = input.lines.len()))]
pub(super) async fn create_reservation(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CreateReservation>,
) -> Result<(StatusCode, Json<ReservationDto>), AppError> {
    let reserved = async {
        let lines = ReservationLines::parse(&input)?;
        let ttl = ReservationTtl::parse(input.ttl_seconds, state.reservation_ttl)?;
        let mut conn = state.conn().await?;
        db::reservations::reserve(&mut conn, input.id, &lines, ttl, &state.currency).await
    }
    .await;
    let change = reserved.inspect_err(|_| ReservationOutcome::Refused.count())?;
    let status = if change.touched.is_empty() {
        ReservationOutcome::Repeated.count();
        StatusCode::OK
    } else {
        ReservationOutcome::Held.count();
        StatusCode::CREATED
    };
    state.invalidate_products(&change.touched).await;
    Ok((status, Json(change.reservation)))
}

/// One reservation.
#[utoipa::path(get, path = "/v1/reservations/{id}", tag = "reservations", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReservationDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip(state))]
pub(super) async fn get_reservation(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ReservationDto>, AppError> {
    let mut conn = state.conn().await?;
    db::reservations::find(&mut conn, id, &state.currency)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no reservation {id}")))
}

/// Commits a reservation (idempotent): the stock stays taken and the sweeper leaves it alone.
#[utoipa::path(post, path = "/v1/reservations/{id}/commit", tag = "reservations", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ReservationDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`INVALID_STATE`: already released", body = Problem, content_type = "application/problem+json")
    ))]
#[tracing::instrument(skip(state))]
pub(super) async fn commit_reservation(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ReservationDto>, AppError> {
    let mut conn = state.conn().await?;
    let committed = db::reservations::commit(&mut conn, id, &state.currency).await?;
    ReservationOutcome::Committed.count();
    Ok(Json(committed))
}

/// Releases a reservation, held or committed, and restocks it exactly once (releasing again changes nothing).
#[utoipa::path(post, path = "/v1/reservations/{id}/release", tag = "reservations", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReservationDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip(state))]
pub(super) async fn release_reservation(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ReservationDto>, AppError> {
    let mut conn = state.conn().await?;
    let change = db::reservations::release(&mut conn, id, &state.currency).await?;
    if !change.touched.is_empty() {
        ReservationOutcome::Released.count();
    }
    state.invalidate_products(&change.touched).await;
    Ok(Json(change.reservation))
}
