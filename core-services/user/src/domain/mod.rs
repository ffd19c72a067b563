//! Validated account values: once parsed, the rest of the code cannot hold an invalid one.

mod account;
mod email;
mod name;
mod password;
mod refresh_token;

pub(crate) use account::{AccountChanges, NewAccount, PasswordChange};
pub use email::Email;
pub use name::UserName;
pub use password::{Password, PasswordHasher, PasswordPolicyError};
pub use refresh_token::RefreshToken;
