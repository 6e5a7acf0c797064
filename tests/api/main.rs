//! Integration tests: the real server on a random port, with the memory store and with Redis.

mod conversations;
mod dialogue;
mod errors;
mod handoff;
mod helpers;
mod processes;
mod store;
