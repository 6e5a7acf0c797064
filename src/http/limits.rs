//! Per-client limits: how often one client (by IP address) may start conversations, send
//! messages, leave messages for a closed team, send typing signals or feedback, and open event
//! streams. Without them the per-conversation limit is no limit: a client would start a new
//! conversation for every message. Behind a load balancer the client's address is read from the
//! header the operator names as trusted (its last entry, the one the proxy itself added).
//! Per instance, like the conversation limit: a load balancer spreads a flood anyway.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::ClientLimitSettings;
use crate::error::{ApiError, ErrorCode};

/// What a client does, each with its own allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Message,
    LeaveMessage,
    Typing,
    Feedback,
    Stream,
}

const ACTIONS: usize = 6;

/// Clients whose allowance is kept before the idle ones are swept.
const SWEEP_ABOVE: usize = 10_000;

pub struct ClientLimits {
    limiters: [DefaultKeyedRateLimiter<IpAddr>; ACTIONS],
    clock: DefaultClock,
    trusted_header: Option<HeaderName>,
}

impl ClientLimits {
    pub fn new(settings: &ClientLimitSettings, trusted_header: Option<&str>) -> Self {
        let per_minute =
            |n: u32| RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)));
        let per_hour =
            |n: u32| RateLimiter::keyed(Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)));
        Self {
            limiters: [
                per_minute(settings.conversations_per_minute),
                per_minute(settings.messages_per_minute),
                per_hour(settings.offline_messages_per_hour),
                per_minute(settings.typing_per_minute),
                per_minute(settings.feedback_per_minute),
                per_minute(settings.streams_per_minute),
            ],
            clock: DefaultClock::default(),
            trusted_header: trusted_header.and_then(|h| HeaderName::try_from(h.trim()).ok()),
        }
    }

    /// Ok if this client may do `action` now; else 429 with the seconds until it may.
    pub fn check(&self, request: &HttpRequest, action: Action) -> Result<(), ApiError> {
        let Some(client) = self.client(request) else { return Ok(()) };
        let limiter = &self.limiters[action as usize];
        if limiter.len() > SWEEP_ABOVE {
            limiter.retain_recent();
        }
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::new(
                ErrorCode::RateLimited,
                "Too many requests from your connection. Please wait and try again.",
            )
            .with_retry_after(wait.as_secs_f64().ceil() as u64)
        })
    }

    /// The client's address: the trusted proxy header's last entry, else the peer's address.
    fn client(&self, request: &HttpRequest) -> Option<IpAddr> {
        let forwarded = self.trusted_header.as_ref().and_then(|name| {
            let value = request.headers().get(name)?.to_str().ok()?;
            value.rsplit(',').next()?.trim().parse().ok()
        });
        forwarded.or_else(|| request.peer_addr().map(|a| a.ip()))
    }
}
