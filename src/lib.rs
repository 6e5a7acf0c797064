//! herts-assistant: a chat assistant for Hertfordshire County Council's website.
//!
//! The map is in ARCHITECTURE.md. In short: `content` loads and validates what the assistant
//! knows; `engine` answers a message without any I/O; `store` keeps conversations (memory or
//! Redis); `http` is the actix-web edge; `eval` measures answer quality.

pub mod cache;
pub mod config;
pub mod content;
pub mod engine;
pub mod engine_build;
pub mod error;
pub mod eval;
pub mod handoff;
pub mod http;
pub mod insights;
pub mod markup;
pub mod publishing;
pub mod startup;
pub mod store;
