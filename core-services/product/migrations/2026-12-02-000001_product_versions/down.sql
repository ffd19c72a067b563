DROP TRIGGER products_bump_version ON products;
DROP FUNCTION bump_product_version();
ALTER TABLE products DROP COLUMN version;
