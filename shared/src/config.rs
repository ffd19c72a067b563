//! Typed configuration from environment variables, with working development defaults.
//!
//! Every service reads its settings through an [`Env`]: a snapshot of the variables that knows whether this
//! is production. A malformed value fails start-up naming the variable; in production a secret that is
//! missing or still holds its development default does too.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};

use crate::service::{DatabaseId, ServiceId};

/// The internal token development setups share; refused in production.
pub const DEV_INTERNAL_TOKEN: &str = "quickmart-dev-internal-token";
/// The PostgreSQL server used when no database URL is configured (development only).
pub const DEV_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432";
/// The Redis server used when `REDIS_URL` is not set (development only).
pub const DEV_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable is set but cannot be parsed.
    #[error("environment variable {name} is malformed: {reason}")]
    Malformed {
        /// The variable.
        name: String,
        /// Why it could not be parsed.
        reason: String,
    },
    /// A variable production requires is not set.
    #[error("environment variable {name} must be set when QUICKMART_ENV=production")]
    Missing {
        /// The variable.
        name: String,
    },
    /// A secret still holds its development default in production.
    #[error(
        "environment variable {name} still holds its development default; set a real secret for production"
    )]
    DevDefault {
        /// The variable.
        name: String,
    },
}

/// Where the service runs: development allows built-in defaults for secrets, production does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// A laptop or a test: defaults fill in whatever is missing.
    Development,
    /// A real deployment: every secret must be set explicitly.
    Production,
}

/// A snapshot of environment variables, read once at start-up.
#[derive(Debug, Clone)]
pub struct Env {
    vars: HashMap<String, String>,
    environment: Environment,
}

impl Env {
    /// Reads the process environment.
    pub fn from_process() -> Result<Self, ConfigError> {
        Self::from_pairs(std::env::vars())
    }

    /// Builds an environment from explicit pairs (tests, the one-process launcher).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let environment = match vars
            .get("QUICKMART_ENV")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("" | "development" | "dev" | "test") => Environment::Development,
            Some("production" | "prod") => Environment::Production,
            Some(other) => {
                return Err(ConfigError::Malformed {
                    name: "QUICKMART_ENV".into(),
                    reason: format!("expected `development` or `production`, got `{other}`"),
                });
            }
        };
        Ok(Self { vars, environment })
    }

    /// Development or production.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Whether this is a production deployment.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Sets a variable in this snapshot (the one-process launcher points services at each other this way).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Whether a variable is set (even to an empty value).
    pub fn contains(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// The variables whose names start with `prefix`, with the rest of the name.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.vars
            .iter()
            .filter_map(move |(name, value)| Some((name.strip_prefix(prefix)?, value.as_str())))
    }

    /// The raw value of a variable, if set and not empty.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A parsed variable, or `None` when unset.
    pub fn optional<T: FromStr>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T::Err: Display,
    {
        self.raw(name)
            .map(|value| {
                value.parse::<T>().map_err(|e| ConfigError::Malformed {
                    name: name.to_owned(),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// A parsed variable, or `default` when unset (in any environment: for settings, not secrets).
    pub fn parse_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: Display,
    {
        Ok(self.optional(name)?.unwrap_or(default))
    }

    /// A boolean flag (`true`/`false`/`1`/`0`/`yes`/`no`), or `default` when unset.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(other) => Err(ConfigError::Malformed {
                name: name.to_owned(),
                reason: format!("expected true or false, got `{other}`"),
            }),
        }
    }

    /// A secret: in development `dev_default` fills in when unset; in production it must be set and must
    /// differ from the development default.
    pub fn secret(&self, name: &str, dev_default: &str) -> Result<SecretString, ConfigError> {
        match (self.raw(name), self.environment) {
            (Some(value), Environment::Production) if value == dev_default => {
                Err(ConfigError::DevDefault {
                    name: name.to_owned(),
                })
            }
            (Some(value), _) => Ok(SecretString::from(value.to_owned())),
            (None, Environment::Production) => Err(ConfigError::Missing {
                name: name.to_owned(),
            }),
            (None, Environment::Development) => Ok(SecretString::from(dev_default.to_owned())),
        }
    }

    /// A secret with no development default: `None` when unset in development, an error in production.
    pub fn optional_secret(&self, name: &str) -> Result<Option<SecretString>, ConfigError> {
        match (self.raw(name), self.environment) {
            (Some(value), _) => Ok(Some(SecretString::from(value.to_owned()))),
            (None, Environment::Production) => Err(ConfigError::Missing {
                name: name.to_owned(),
            }),
            (None, Environment::Development) => Ok(None),
        }
    }

    /// The URL of one core's database: `<PREFIX>_DATABASE_URL`, or its database on the development server.
    pub fn database_url(&self, database: DatabaseId) -> Result<SecretString, ConfigError> {
        self.secret(
            &format!("{}_DATABASE_URL", database.env_prefix),
            &format!("{DEV_POSTGRES_URL}/{}", database.name),
        )
    }

    /// The Redis URL (`REDIS_URL`).
    pub fn redis_url(&self) -> Result<SecretString, ConfigError> {
        self.secret("REDIS_URL", DEV_REDIS_URL)
    }

    /// The token cores require from internal callers (`INTERNAL_API_TOKEN`).
    pub fn internal_token(&self) -> Result<SecretString, ConfigError> {
        let token = self.secret("INTERNAL_API_TOKEN", DEV_INTERNAL_TOKEN)?;
        if self.is_production() && token.expose_secret().len() < 24 {
            return Err(ConfigError::Malformed {
                name: "INTERNAL_API_TOKEN".into(),
                reason: "must be at least 24 characters in production".into(),
            });
        }
        Ok(token)
    }

    /// The address `service` listens on: `<PREFIX>_LISTEN_ADDR`, or loopback on its default port.
    pub fn listen_addr(&self, service: ServiceId) -> Result<std::net::SocketAddr, ConfigError> {
        self.parse_or(
            &service.listen_variable(),
            std::net::SocketAddr::from(([127, 0, 0, 1], service.default_port())),
        )
    }

    /// Where to reach `service`: its URL variable (`PRODUCT_CORE_URL`, `GATEWAY_SUBGRAPH_USER_URL`), or where it
    /// listens on this machine by default; an http(s) URL.
    pub fn service_url(&self, service: ServiceId) -> Result<String, ConfigError> {
        let name = service.url_variable();
        let value = self
            .raw(&name)
            .map_or_else(|| service.default_url(), str::to_owned);
        match url::Url::parse(&value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(value),
            Ok(_) => Err(ConfigError::Malformed {
                name,
                reason: "expected an http(s) URL".into(),
            }),
            Err(e) => Err(ConfigError::Malformed {
                name,
                reason: e.to_string(),
            }),
        }
    }

    /// The store's one currency (`QUICKMART_CURRENCY`, default USD): three upper-case letters.
    pub fn currency(&self) -> Result<String, ConfigError> {
        let currency = self.raw("QUICKMART_CURRENCY").unwrap_or("USD").to_owned();
        if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(currency)
        } else {
            Err(ConfigError::Malformed {
                name: "QUICKMART_CURRENCY".into(),
                reason: format!("expected an ISO 4217 code such as USD, got `{currency}`"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied()).expect("valid QUICKMART_ENV")
    }

    #[test]
    fn development_fills_in_secrets() {
        let token = env(&[]).internal_token().expect("dev default");
        assert_eq!(token.expose_secret(), DEV_INTERNAL_TOKEN);
    }

    #[test]
    fn production_refuses_missing_and_default_secrets() {
        let missing = env(&[("QUICKMART_ENV", "production")]).internal_token();
        assert!(
            matches!(missing, Err(ConfigError::Missing { name }) if name == "INTERNAL_API_TOKEN")
        );
        let default = env(&[
            ("QUICKMART_ENV", "production"),
            ("INTERNAL_API_TOKEN", DEV_INTERNAL_TOKEN),
        ])
        .internal_token();
        assert!(matches!(default, Err(ConfigError::DevDefault { .. })));
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let error = env(&[("PRODUCT_CORE_LISTEN_ADDR", "not-an-address")])
            .listen_addr(ServiceId::ProductCore);
        assert!(
            error
                .expect_err("malformed")
                .to_string()
                .contains("PRODUCT_CORE_LISTEN_ADDR")
        );
        assert!(Env::from_pairs([("QUICKMART_ENV", "staging")]).is_err());
        assert!(env(&[("QUICKMART_CURRENCY", "usd")]).currency().is_err());
        let not_http = env(&[("PRODUCT_CORE_URL", "ftp://x")]).service_url(ServiceId::ProductCore);
        assert!(
            matches!(not_http, Err(ConfigError::Malformed { name, .. }) if name == "PRODUCT_CORE_URL")
        );
    }

    #[test]
    fn one_definition_of_production() {
        for value in ["production", "prod", "PRODUCTION", " Prod "] {
            assert!(env(&[("QUICKMART_ENV", value)]).is_production(), "{value}");
        }
        for value in ["", "development", "dev", "test"] {
            assert!(!env(&[("QUICKMART_ENV", value)]).is_production(), "{value}");
        }
    }

    #[test]
    fn service_urls_default_to_this_machine() {
        let env = env(&[]);
        assert_eq!(
            env.service_url(ServiceId::OrderCore).expect("default"),
            "http://127.0.0.1:8083"
        );
        assert_eq!(
            env.listen_addr(ServiceId::Gateway).expect("default"),
            std::net::SocketAddr::from(([127, 0, 0, 1], 4000))
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let token = env(&[("INTERNAL_API_TOKEN", "very-secret-value")])
            .internal_token()
            .expect("set");
        assert!(!format!("{token:?}").contains("very-secret-value"));
    }
}
