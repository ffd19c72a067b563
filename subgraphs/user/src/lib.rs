//! QuickMart user subgraph (being built: the crate exists so the workspace resolves; the schema follows next).
