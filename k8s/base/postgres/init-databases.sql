-- Runs once, when the PostgreSQL volume is first initialised: one database per core service.
CREATE DATABASE quickmart_user;
CREATE DATABASE quickmart_product;
CREATE DATABASE quickmart_order;
