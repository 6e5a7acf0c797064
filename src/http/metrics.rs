//! Prometheus metrics at `/metrics`: requests by route template (never the raw path, so ids
//! do not explode the series), answers by kind, conversations started and handoffs.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

use super::AppState;
use crate::error::{ApiError, ErrorCode};

pub struct Metrics {
    registry: Registry,
    requests: HistogramVec,
    pub answers: IntCounterVec,
    pub conversations: IntCounter,
    pub handoffs: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("herts_assistant".into()), None).expect("a valid prefix");
        let requests = HistogramVec::new(
            HistogramOpts::new("http_request_seconds", "HTTP requests by route template and status")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0]),
            &["route", "method", "status"],
        )
        .expect("valid histogram");
        let answers = IntCounterVec::new(Opts::new("answers_total", "Replies by matched kind"), &["kind"])
            .expect("valid counter");
        let conversations =
            IntCounter::new("conversations_started_total", "Conversations started").expect("valid counter");
        let handoffs =
            IntCounterVec::new(Opts::new("handoffs_total", "Conversations handed to a person"), &["team"])
                .expect("valid counter");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(answers.clone()),
            Box::new(conversations.clone()),
            Box::new(handoffs.clone()),
        ] {
            registry.register(collector).expect("each metric registered once");
        }
        Self { registry, requests, answers, conversations, handoffs }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Times every request and labels it with its route template.
pub async fn record(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let method = method_label(request.method());
    let response = next.call(request).await?;
    if let Some(state) = state {
        let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".into());
        let status = response.status().as_u16().to_string();
        state
            .metrics
            .requests
            .with_label_values(&[route.as_str(), method, status.as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(response)
}

/// The method as a label from a fixed set: a client can send any token as a method, and each
/// new label value would be a new series kept for the life of the process.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

/// The Prometheus text format: requests by route template, answers by kind, conversations
/// started, handoffs by team.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    responses(
        (status = 200, description = "The metrics.", content_type = "text/plain", body = String),
        (status = 500, description = "internal_error"),
    )
)]
pub async fn export(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut buffer = Vec::new();
    let encoder = TextEncoder::new();
    match encoder.encode(&state.metrics.registry.gather(), &mut buffer) {
        Ok(()) => Ok(HttpResponse::Ok().content_type(encoder.format_type()).body(buffer)),
        Err(error) => {
            tracing::error!(%error, "metrics could not be encoded");
            Err(ApiError::new(ErrorCode::Internal, "The metrics could not be encoded."))
        }
    }
}
