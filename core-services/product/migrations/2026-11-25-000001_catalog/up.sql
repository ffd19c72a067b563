CREATE TABLE categories (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    slug TEXT NOT NULL CONSTRAINT categories_slug_key UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE products (
    id UUID PRIMARY KEY,
    sku TEXT NOT NULL CONSTRAINT products_sku_key UNIQUE,
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description TEXT NOT NULL DEFAULT '',
    -- Minor units of the store currency; bounded so that it always fits a GraphQL Int.
    price BIGINT NOT NULL CHECK (price BETWEEN 0 AND 2147483647),
    stock INTEGER NOT NULL CHECK (stock >= 0),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    category_id UUID CONSTRAINT products_category_id_fkey REFERENCES categories (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    search_document TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A') || setweight(to_tsvector('english', description), 'B')
    ) STORED
);

CREATE INDEX products_search_idx ON products USING GIN (search_document);
-- One index per sort order, each ending in id for the keyset tie-break.
CREATE INDEX products_newest_idx ON products (created_at DESC, id DESC);
CREATE INDEX products_price_idx ON products (price, id);
CREATE INDEX products_name_idx ON products (name, id);
CREATE INDEX products_category_idx ON products (category_id);
