//! End-to-end: the whole stack in one process on random ports, fresh databases, driven through the gateway only.

mod admin;
mod commands;
mod faults;
mod helpers;
mod readme;
mod refusals;
mod replicas;
mod storefront;
mod traces;
