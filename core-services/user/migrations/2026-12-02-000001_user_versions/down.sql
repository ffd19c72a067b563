DROP TRIGGER users_bump_version ON users;
DROP FUNCTION bump_user_version();
ALTER TABLE users DROP COLUMN version;
