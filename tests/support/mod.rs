//! Shared helpers for the protocol integration tests.

#![allow(dead_code, unreachable_pub)]

pub mod client;
pub mod provider;
