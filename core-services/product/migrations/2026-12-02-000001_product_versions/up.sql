-- Every change to a product bumps its version, whichever statement makes it (stock moves included), so caches can
-- refuse to go back in time without trusting any clock (docs/ARCHITECTURE.md, "Rules of the domain").
ALTER TABLE products ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

CREATE FUNCTION bump_product_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER products_bump_version BEFORE UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION bump_product_version();
