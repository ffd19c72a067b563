//! Diesel table definitions (the generated `search_document` column is queried through SQL fragments).

diesel::table! {
    categories (id) {
        id -> Uuid,
        name -> Text,
        slug -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    products (id) {
        id -> Uuid,
        sku -> Text,
        name -> Text,
        description -> Text,
        price -> Int8,
        stock -> Int4,
        active -> Bool,
        category_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int8,
    }
}

diesel::table! {
    reservations (id) {
        id -> Uuid,
        status -> Text,
        request_hash -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    reservation_lines (reservation_id, line_no) {
        reservation_id -> Uuid,
        line_no -> Int4,
        product_id -> Uuid,
        sku -> Text,
        name -> Text,
        unit_price -> Int8,
        quantity -> Int4,
    }
}

diesel::joinable!(products -> categories (category_id));
diesel::joinable!(reservation_lines -> reservations (reservation_id));
diesel::joinable!(reservation_lines -> products (product_id));
diesel::allow_tables_to_appear_in_same_query!(
    categories,
    products,
    reservations,
    reservation_lines
);
