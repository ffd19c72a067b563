//! The stored form of versioned entries and the rule that orders writes of one key (docs/ARCHITECTURE.md, "Rules
//! of the domain"): Redis applies it in a script, the in-process map and the near copy in Rust.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A versioned entry as stored: `v<version>:<filled at, ms since the epoch>:<JSON>`; a tombstone has no JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stored<'a> {
    /// The entity's version (its `version` column).
    pub(super) version: i64,
    /// When the entry was written, by the writer's clock (only ever compared with a generous age).
    pub(super) written_ms: u64,
    /// The entity as JSON; empty for a tombstone.
    pub(super) body: &'a str,
}

impl<'a> Stored<'a> {
    /// Reads the stored form; `None` for anything else (a plain entry, or an older format).
    pub(super) fn parse(raw: &'a str) -> Option<Self> {
        let rest = raw.strip_prefix('v')?;
        let (version, rest) = rest.split_once(':')?;
        let (written_ms, body) = rest.split_once(':')?;
        Some(Self {
            version: version.parse().ok()?,
            written_ms: written_ms.parse().ok()?,
            body,
        })
    }

    /// The stored form of `body` at `version`, written now.
    pub(super) fn encode(version: i64, body: &str) -> String {
        format!("v{version}:{}:{body}", now_ms())
    }

    /// Whether this is a tombstone: the entity changed to `version` and its old copy must not be served.
    pub(super) fn is_tombstone(&self) -> bool {
        self.body.is_empty()
    }

    /// The entity, if this is an entry written at most `max_age` ago.
    pub(super) fn body_within(&self, max_age: Duration) -> Option<&'a str> {
        let age = now_ms().saturating_sub(self.written_ms);
        (!self.is_tombstone() && u128::from(age) <= max_age.as_millis()).then_some(self.body)
    }
}

/// Whether writing `new` over `current` (what is stored, if it is of this form) keeps the key moving forward: a
/// tombstone replaces anything of its version or older; an entry replaces only an older version, or the tombstone
/// of its own version. Every writer applying this rule makes the outcome independent of the order of writes.
pub(super) fn write_wins(current: Option<Stored<'_>>, new: Stored<'_>) -> bool {
    match current {
        None => true,
        Some(current) if new.is_tombstone() => new.version >= current.version,
        Some(current) => {
            new.version > current.version
                || (new.version == current.version && current.is_tombstone())
        }
    }
}

/// [`write_wins`] in Redis, atomically per key. KEYS: the keys; ARGV: the entry lifetime (ms), the tombstone
/// lifetime (ms), the invalidation channel, then per key its version and stored form. A tombstone is also
/// published on the channel, so every replica's near copy applies it. Returns 1 or 0 per key: written or not.
pub(super) static VERSIONED_PUT: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| {
        redis::Script::new(
            r"
        local written = {}
        for i, key in ipairs(KEYS) do
          local version = tonumber(ARGV[i * 2 + 2])
          local value = ARGV[i * 2 + 3]
          local tombstone = string.match(value, '^v%d+:%d+:$') ~= nil
          local write = true
          local current = redis.call('GET', key)
          if current then
            local stored, stored_body = string.match(current, '^v(%d+):%d+:(.*)$')
            if stored then
              stored = tonumber(stored)
              if tombstone then
                write = version >= stored
              else
                write = version > stored or (version == stored and stored_body == '')
              end
            end
          end
          written[i] = 0
          if write then
            local ttl = ARGV[1]
            if tombstone then ttl = ARGV[2] end
            redis.call('SET', key, value, 'PX', ttl)
            written[i] = 1
          end
          if tombstone then
            redis.call('PUBLISH', ARGV[3], key .. '\n' .. value)
          end
        end
        return written
        ",
        )
    });

/// Milliseconds since the Unix epoch.
pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(version: i64, body: &str) -> Stored<'_> {
        Stored {
            version,
            written_ms: 1,
            body,
        }
    }

    #[test]
    fn the_rule() {
        assert!(write_wins(None, at(1, "{}")));
        assert!(write_wins(Some(at(5, "{}")), at(6, "{}")));
        assert!(!write_wins(Some(at(5, "{}")), at(5, "{}")));
        assert!(write_wins(Some(at(5, "")), at(5, "{}")));
        assert!(!write_wins(Some(at(6, "")), at(5, "{}")));
        assert!(write_wins(Some(at(5, "{}")), at(5, "")));
        assert!(!write_wins(Some(at(6, "{}")), at(5, "")));
    }

    #[test]
    fn the_stored_form() {
        assert_eq!(
            Stored::parse("v12:1700:{}"),
            Some(at(12, "{}")).map(|s| Stored {
                written_ms: 1700,
                ..s
            })
        );
        assert!(Stored::parse("v12:1700:").is_some_and(|s| s.is_tombstone()));
        assert_eq!(
            Stored::parse("v12:{}"),
            None,
            "the format before write times"
        );
        assert_eq!(Stored::parse("{\"id\":1}"), None);
        let fresh = Stored::encode(3, "{}");
        let fresh = Stored::parse(&fresh).expect("parses");
        assert_eq!(fresh.body_within(Duration::from_secs(1)), Some("{}"));
        assert_eq!(
            at(3, "{}").body_within(Duration::from_secs(1)),
            None,
            "written long ago"
        );
        assert_eq!(
            Stored::parse(&Stored::encode(3, "")).and_then(|s| s.body_within(Duration::MAX)),
            None
        );
    }
}
