//! The one table of QuickMart's services: names, default ports, variable prefixes and databases.
//!
//! The crates, the CLI (`quickmart serve <service>`, `quickmart up`, `quickmart migrate`), and the checks that
//! keep the Dockerfile, the Kubernetes manifests and the README in step all read it from here
//! (docs/ARCHITECTURE.md, "Service identities").

use std::fmt;
use std::str::FromStr;

/// One QuickMart service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceId {
    /// The federated GraphQL endpoint.
    Gateway,
    /// The user subgraph.
    UserSubgraph,
    /// The product subgraph.
    ProductSubgraph,
    /// The order subgraph.
    OrderSubgraph,
    /// The user core REST service.
    UserCore,
    /// The product core REST service.
    ProductCore,
    /// The order core REST service.
    OrderCore,
}

/// The database a core owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseId {
    /// The prefix of its variables (`<PREFIX>_DATABASE_URL`).
    pub env_prefix: &'static str,
    /// Its name on the development server.
    pub name: &'static str,
}

impl DatabaseId {
    /// user-core's database.
    pub const USER: Self = Self {
        env_prefix: "USER",
        name: "quickmart_user",
    };
    /// product-core's database.
    pub const PRODUCT: Self = Self {
        env_prefix: "PRODUCT",
        name: "quickmart_product",
    };
    /// order-core's database.
    pub const ORDER: Self = Self {
        env_prefix: "ORDER",
        name: "quickmart_order",
    };
}

impl ServiceId {
    /// Every service, cores first: the order they are built in.
    pub const ALL: [Self; 7] = [
        Self::UserCore,
        Self::ProductCore,
        Self::OrderCore,
        Self::UserSubgraph,
        Self::ProductSubgraph,
        Self::OrderSubgraph,
        Self::Gateway,
    ];

    /// The three cores, which own databases.
    pub const CORES: [Self; 3] = [Self::UserCore, Self::ProductCore, Self::OrderCore];

    /// The name used in logs, metrics, Kubernetes and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::UserSubgraph => "user-subgraph",
            Self::ProductSubgraph => "product-subgraph",
            Self::OrderSubgraph => "order-subgraph",
            Self::UserCore => "user-core",
            Self::ProductCore => "product-core",
            Self::OrderCore => "order-core",
        }
    }

    /// The port it listens on unless told otherwise.
    pub const fn default_port(self) -> u16 {
        match self {
            Self::Gateway => 4000,
            Self::UserSubgraph => 4001,
            Self::ProductSubgraph => 4002,
            Self::OrderSubgraph => 4003,
            Self::UserCore => 8081,
            Self::ProductCore => 8082,
            Self::OrderCore => 8083,
        }
    }

    /// The prefix of its own variables (`<PREFIX>_LISTEN_ADDR`, `<PREFIX>_URL`).
    pub const fn env_prefix(self) -> &'static str {
        match self {
            Self::Gateway => "GATEWAY",
            Self::UserSubgraph => "USER_SUBGRAPH",
            Self::ProductSubgraph => "PRODUCT_SUBGRAPH",
            Self::OrderSubgraph => "ORDER_SUBGRAPH",
            Self::UserCore => "USER_CORE",
            Self::ProductCore => "PRODUCT_CORE",
            Self::OrderCore => "ORDER_CORE",
        }
    }

    /// The variable that sets its listen address.
    pub fn listen_variable(self) -> String {
        format!("{}_LISTEN_ADDR", self.env_prefix())
    }

    /// The variable other services read its base URL from (`PRODUCT_CORE_URL`); for a subgraph, the
    /// gateway's `GATEWAY_SUBGRAPH_<NAME>_URL`, which names its `/graphql` endpoint.
    pub fn url_variable(self) -> String {
        match self.subgraph_name() {
            Some(graph) => format!("GATEWAY_SUBGRAPH_{}_URL", graph.to_ascii_uppercase()),
            None => format!("{}_URL", self.env_prefix()),
        }
    }

    /// Where it answers on this machine by default: the base URL of a core, the `/graphql` endpoint of a
    /// subgraph or the gateway.
    pub fn default_url(self) -> String {
        self.url_at(&format!("127.0.0.1:{}", self.default_port()))
    }

    /// [`Self::default_url`] for a service listening at `authority` (`host:port`).
    pub fn url_at(self, authority: &str) -> String {
        if self.is_core() {
            format!("http://{authority}")
        } else {
            format!("http://{authority}/graphql")
        }
    }

    /// The subgraph's name in the supergraph (`join__Graph`, lower case), for the three subgraphs.
    pub const fn subgraph_name(self) -> Option<&'static str> {
        match self {
            Self::UserSubgraph => Some("user"),
            Self::ProductSubgraph => Some("product"),
            Self::OrderSubgraph => Some("order"),
            _ => None,
        }
    }

    /// The database it owns, for the three cores.
    pub const fn database(self) -> Option<DatabaseId> {
        match self {
            Self::UserCore => Some(DatabaseId::USER),
            Self::ProductCore => Some(DatabaseId::PRODUCT),
            Self::OrderCore => Some(DatabaseId::ORDER),
            _ => None,
        }
    }

    /// Whether it is a core (owns a database).
    pub const fn is_core(self) -> bool {
        self.database().is_some()
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of the seven services.
#[derive(Debug, thiserror::Error)]
#[error("unknown service `{0}`; expected one of: {names}", names = ServiceId::ALL.map(ServiceId::name).join(", "))]
pub struct UnknownService(String);

impl FromStr for ServiceId {
    type Err = UnknownService;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|service| service.name() == name)
            .ok_or_else(|| UnknownService(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for service in ServiceId::ALL {
            assert_eq!(service.name().parse::<ServiceId>().ok(), Some(service));
        }
        let error = "inventory-core".parse::<ServiceId>().expect_err("unknown");
        assert!(error.to_string().contains("product-core"));
        let mut ports = ServiceId::ALL.map(ServiceId::default_port);
        ports.sort_unstable();
        assert!(ports.windows(2).all(|pair| pair[0] != pair[1]));
    }

    #[test]
    fn variables_follow_the_prefix() {
        assert_eq!(
            ServiceId::ProductCore.listen_variable(),
            "PRODUCT_CORE_LISTEN_ADDR"
        );
        assert_eq!(ServiceId::ProductCore.url_variable(), "PRODUCT_CORE_URL");
        assert_eq!(
            ServiceId::OrderSubgraph.url_variable(),
            "GATEWAY_SUBGRAPH_ORDER_URL"
        );
        assert_eq!(
            ServiceId::UserSubgraph.default_url(),
            "http://127.0.0.1:4001/graphql"
        );
        assert_eq!(ServiceId::UserCore.default_url(), "http://127.0.0.1:8081");
        assert_eq!(
            ServiceId::CORES.map(|s| s.database().map(|d| d.name)),
            [
                Some("quickmart_user"),
                Some("quickmart_product"),
                Some("quickmart_order")
            ]
        );
    }
}
