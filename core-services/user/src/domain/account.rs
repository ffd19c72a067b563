//! Whole inputs, validated at once: every invalid field is reported together (`FieldErrors`), under the
//! request body's own JSON names.

use quickmart_shared::{AppError, FieldErrors};
use secrecy::SecretString;

use super::{Email, Password, UserName};
use crate::api::{CreateUser, UpdateUser};

/// A valid sign-up.
pub(crate) struct NewAccount {
    /// Normalised e-mail address.
    pub(crate) email: Email,
    /// A password that meets the policy.
    pub(crate) password: Password,
    /// Display name.
    pub(crate) name: UserName,
}

impl NewAccount {
    /// Validates `input`, or `BAD_USER_INPUT` naming every invalid field.
    pub(crate) fn parse(input: CreateUser) -> Result<Self, AppError> {
        let mut errors = FieldErrors::default();
        let email = Email::parse(&input.email).map_err(|m| errors.add("email", m));
        let password =
            Password::parse(input.password).map_err(|m| errors.add("password", m.to_string()));
        let name = UserName::parse(&input.name).map_err(|m| errors.add("name", m));
        match (email, password, name) {
            (Ok(email), Ok(password), Ok(name)) => Ok(Self {
                email,
                password,
                name,
            }),
            _ => Err(errors.into_error()),
        }
    }
}

/// A valid change of an account: only the fields given change.
pub(crate) struct AccountChanges {
    /// New display name.
    pub(crate) name: Option<UserName>,
    /// New password, with the current one that authorises it.
    pub(crate) password: Option<PasswordChange>,
}

/// A new password and the current one, which must still be verified against the stored hash.
pub(crate) struct PasswordChange {
    /// What the caller says the password is now.
    pub(crate) current: SecretString,
    /// The new password (meets the policy).
    pub(crate) new: Password,
}

impl AccountChanges {
    /// Validates `input`, or `BAD_USER_INPUT` naming every invalid field.
    pub(crate) fn parse(input: UpdateUser) -> Result<Self, AppError> {
        let mut errors = FieldErrors::default();
        let name = input
            .name
            .as_deref()
            .map(UserName::parse)
            .transpose()
            .map_err(|m| errors.add("name", m));
        let new_password = input
            .new_password
            .map(Password::parse)
            .transpose()
            .map_err(|m| errors.add("new_password", m.to_string()));
        let password = match (new_password, input.current_password) {
            (Ok(Some(new)), Some(current)) => Ok(Some(PasswordChange { current, new })),
            (Ok(Some(_)), None) => {
                errors.add("current_password", "is required to change the password");
                Err(())
            }
            (Ok(None), _) => Ok(None),
            (Err(()), _) => Err(()),
        };
        match (name, password) {
            (Ok(name), Ok(password)) => Ok(Self { name, password }),
            _ => Err(errors.into_error()),
        }
    }
}
