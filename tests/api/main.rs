//! Integration tests: the real server on a random port, with the memory store and with Redis.

mod balancer;
mod cluster;
mod content;
mod context;
mod conversations;
mod dialogue;
mod editor;
mod errors;
mod handoff;
mod hardening;
mod helpers;
mod openapi;
mod policy;
mod processes;
mod snapshots;
mod store;
