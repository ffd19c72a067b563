//! The QuickMart command line, as a library so the end-to-end tests start exactly what `quickmart up` starts.

pub mod embedded;
pub mod migrate;
pub mod schemas;
pub mod seed;
pub mod services;
pub mod stack;
pub mod up;
