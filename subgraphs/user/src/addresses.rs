//! The signed-in customer's address book: the `User.addresses` fields and the address mutations, over
//! user-core's `/v1/users/{id}/addresses` (which scopes every id to its owner, so another user's address is
//! `NOT_FOUND`).

use async_graphql::{Context, ID};
use quickmart_shared::AppError;
use quickmart_shared::graphql::{Address, AddressInput, camel_case, parse_id, request_context};
use user_contract::api::SavedAddressDto;
use uuid::Uuid;

use crate::types::request_data;

/// The GraphQL form of a saved address.
pub(crate) fn saved(address: SavedAddressDto) -> Address {
    Address::new(Some(address.id), address.address)
}

/// A core field as the mutation's argument names it (`postal_code` → `input.postalCode`); the book's limit is
/// reported on `addresses`.
fn input_field(field: &str) -> String {
    if field == "addresses" {
        field.to_owned()
    } else {
        format!("input.{}", camel_case(field))
    }
}

/// A user's saved addresses, oldest first.
pub(crate) async fn book(
    ctx: &Context<'_>,
    user_id: Uuid,
) -> Result<Vec<SavedAddressDto>, AppError> {
    let data = request_data(ctx)?;
    Ok(data
        .accounts
        .core
        .addresses(&data.ctx, user_id)
        .await?
        .items)
}

/// Adds an address to the caller's book.
pub(crate) async fn add(ctx: &Context<'_>, input: AddressInput) -> Result<Address, AppError> {
    let (data, actor) = (request_data(ctx)?, request_context(ctx)?.require_user()?);
    let saved_address = data
        .accounts
        .core
        .add_address(&data.ctx, actor.id, &input.into())
        .await
        .map_err(|e| e.map_fields(input_field))?;
    Ok(saved(saved_address))
}

/// Replaces one of the caller's addresses.
pub(crate) async fn update(
    ctx: &Context<'_>,
    id: &ID,
    input: AddressInput,
) -> Result<Address, AppError> {
    let (data, actor) = (request_data(ctx)?, request_context(ctx)?.require_user()?);
    let id = parse_id(id, "id")?;
    let saved_address = data
        .accounts
        .core
        .update_address(&data.ctx, actor.id, id, &input.into())
        .await
        .map_err(|e| e.map_fields(input_field))?;
    Ok(saved(saved_address))
}

/// Removes one of the caller's addresses.
pub(crate) async fn remove(ctx: &Context<'_>, id: &ID) -> Result<bool, AppError> {
    let (data, actor) = (request_data(ctx)?, request_context(ctx)?.require_user()?);
    let id = parse_id(id, "id")?;
    data.accounts
        .core
        .remove_address(&data.ctx, actor.id, id)
        .await?;
    Ok(true)
}

/// Makes one of the caller's addresses the default.
pub(crate) async fn set_default(ctx: &Context<'_>, id: &ID) -> Result<Address, AppError> {
    let (data, actor) = (request_data(ctx)?, request_context(ctx)?.require_user()?);
    let id = parse_id(id, "id")?;
    let saved_address = data
        .accounts
        .core
        .set_default_address(&data.ctx, actor.id, id)
        .await?;
    Ok(saved(saved_address))
}
