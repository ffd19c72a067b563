//! Diesel table definitions.

diesel::table! {
    orders (id) {
        id -> Uuid,
        user_id -> Uuid,
        status -> Text,
        total -> Int8,
        currency -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        reservation_id -> Uuid,
        reservation_status -> Text,
        shipping_address -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    order_items (order_id, line_no) {
        order_id -> Uuid,
        line_no -> Int4,
        product_id -> Uuid,
        sku -> Text,
        name -> Text,
        quantity -> Int4,
        unit_price -> Int8,
        line_total -> Int8,
    }
}

diesel::table! {
    order_status_history (id) {
        id -> Int8,
        order_id -> Uuid,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor_id -> Nullable<Uuid>,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    carts (id) {
        id -> Uuid,
        user_id -> Nullable<Uuid>,
        token_hash -> Nullable<Bytea>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        checkout_started_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    payments (id) {
        id -> Uuid,
        order_id -> Uuid,
        provider -> Text,
        status -> Text,
        amount -> Int8,
        currency -> Text,
        reference -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    cart_lines (cart_id, product_id) {
        cart_id -> Uuid,
        product_id -> Uuid,
        quantity -> Int4,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    payment_events (id) {
        id -> Text,
        received_at -> Timestamptz,
    }
}

diesel::joinable!(cart_lines -> carts (cart_id));
diesel::joinable!(order_items -> orders (order_id));
diesel::joinable!(payments -> orders (order_id));
diesel::joinable!(order_status_history -> orders (order_id));
diesel::allow_tables_to_appear_in_same_query!(
    orders,
    order_items,
    order_status_history,
    carts,
    cart_lines,
    payments,
    payment_events
);
