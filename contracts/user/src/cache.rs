//! Cache keys and lifetimes of user-core's entities, defined once so whoever fills an entry and whoever
//! invalidates it never disagree.

use std::time::Duration;

use uuid::Uuid;

/// A user by id.
pub fn user_key(id: Uuid) -> String {
    format!("qm:v1:user:{id}")
}

/// Users by id.
pub const USER_TTL: Duration = Duration::from_secs(300);
