//! The HTTP edge: actix-web routes, JSON errors, static pages. Only this module knows actix.

mod agent;
mod auth;
mod conversations;
mod editor;
mod headers;
mod limits;
pub mod live;
pub(crate) use limits::Action;
pub mod metrics;
pub mod openapi;
mod pages;
mod privacy;
pub mod responses;
pub mod wire;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::{App, FromRequest, Handler, HttpResponse, HttpServer, Responder, ResponseError, web};

use crate::config::Settings;
use crate::engine::Engine;
use crate::error::{ApiError, ErrorCode};
use crate::handoff::Handoff;
use crate::handoff::service::{HandoffService, Locks};
use crate::publishing::{self, DraftEngine, LiveContent};
use crate::store::{ConversationStore, Store};

/// What every request handler shares.
pub struct AppState {
    /// The engine serving, swapped whole when content is published (here or elsewhere).
    pub live: Arc<LiveContent>,
    /// The editors' draft engine, kept between tries.
    pub drafts: DraftEngine,
    pub store: Store,
    pub settings: Settings,
    pub handoff: Handoff,
    /// Serialises writers to one conversation within this instance (striped by id), so that
    /// optimistic commits rarely conflict; across instances the store's version check decides.
    locks: Locks,
    rate: RateLimiter,
    /// Per-client allowances (by IP address) for each thing a resident's browser does.
    limits: limits::ClientLimits,
    /// Event streams open on this instance, per conversation and in all.
    streams: Arc<live::StreamCounts>,
    pub metrics: metrics::Metrics,
    /// Insight counters, written to the store once a second.
    pub counts: Arc<crate::store::CountBuffer>,
}

/// Counts each conversation's messages per minute, so one client cannot flood the service.
/// Per instance: a deliberate simplification, since a load balancer spreads a flood anyway.
struct RateLimiter {
    per_minute: u32,
    windows: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32)>>,
}

impl RateLimiter {
    /// Ok if one more message is allowed now; else the seconds until the window ends.
    fn allow(&self, id: &str) -> Result<(), u64> {
        let now = std::time::Instant::now();
        let minute = std::time::Duration::from_secs(60);
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < minute);
        }
        let window = windows.entry(id.to_string()).or_insert((now, 0));
        if now.duration_since(window.0) >= minute {
            *window = (now, 0);
        }
        window.1 += 1;
        if window.1 <= self.per_minute {
            Ok(())
        } else {
            Err(minute.saturating_sub(now.duration_since(window.0)).as_secs_f64().ceil() as u64)
        }
    }
}

impl AppState {
    pub fn new(live: LiveContent, store: Store, settings: Settings) -> Self {
        Self {
            live: Arc::new(live),
            drafts: DraftEngine::default(),
            counts: crate::store::CountBuffer::new(store.clone()),
            store,
            handoff: settings.handoff(),
            rate: RateLimiter { per_minute: settings.rate_limit, windows: Default::default() },
            limits: limits::ClientLimits::new(
                &settings.client_limits,
                settings.trusted_proxy_header.as_deref(),
            ),
            streams: Arc::default(),
            settings,
            metrics: metrics::Metrics::new(),
            locks: Locks::default(),
        }
    }

    /// The engine now serving; a publish swaps it whole, so a request sees one version.
    pub fn engine(&self) -> Arc<Engine> {
        self.live.engine()
    }

    /// Refuses a message when the conversation has sent too many this minute.
    pub(crate) fn check_rate(&self, id: &str) -> Result<(), ApiError> {
        self.rate.allow(id).map_err(|seconds| {
            ApiError::new(ErrorCode::RateLimited, "Too many messages. Please wait a moment and try again.")
                .with_retry_after(seconds)
        })
    }

    /// Refuses what one client (by IP address) does too often.
    pub(crate) fn check_client(
        &self,
        request: &actix_web::HttpRequest,
        action: limits::Action,
    ) -> Result<(), ApiError> {
        self.limits.check(request, action)
    }

    pub(crate) fn lock_for(&self, id: &str) -> &tokio::sync::Mutex<()> {
        self.locks.for_id(id)
    }

    /// The handoff workflows for a request arriving now.
    pub fn handoff_service(&self) -> HandoffService<'_, Store> {
        HandoffService::new(&self.store, &self.handoff, &self.locks, chrono::Utc::now())
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server.
    pub fn build(state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&state.settings.listen)?;
        let port = listener.local_addr()?.port();
        let workers = state.settings.workers;
        let state = web::Data::new(state);
        let state_for_app = state.clone();
        let document = web::Data::new(openapi::Document::build(&state.settings));
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(document.clone())
                .app_data(json_config(state.settings.max_body_bytes))
                .app_data(web::PayloadConfig::new(state.settings.max_body_bytes))
                .app_data(web::PathConfig::default().error_handler(|_, _| {
                    ApiError::new(ErrorCode::InvalidRequest, "The path is not valid.").into()
                }))
                .app_data(web::QueryConfig::default().error_handler(|error, _| {
                    ApiError::new(
                        ErrorCode::InvalidRequest,
                        format!("The query string is not valid: {error}"),
                    )
                    .into()
                }))
                .wrap(actix_web::middleware::from_fn(metrics::record))
                .wrap(cors(&state.settings.allowed_origins))
                .wrap(actix_web::middleware::Logger::new("%r %s %Dms").exclude("/healthz"))
                .wrap(actix_web::middleware::from_fn(headers::secure))
                .configure(routes)
                .default_service(web::to(not_found))
        })
        .listen(listener)?;
        if workers > 0 {
            server = server.workers(workers);
        }
        Ok(Self { port, server: server.run(), state: state_for_app })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped, following the content versions published from any instance and
    /// publishing scheduled ones when due.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.state.clone();
        let following =
            tokio::spawn(publishing::follow(state.store.clone(), state.live.clone(), state.settings.clone()));
        let scheduling = tokio::spawn(publishing::publish_scheduled(
            state.store.clone(),
            state.live.clone(),
            state.settings.clone(),
        ));
        let stopped = self.server.await;
        following.abort();
        scheduling.abort();
        stopped
    }
}

/// Every route the server serves, in one list.
fn all_routes() -> Routes {
    let mut routes = Routes::default();
    routes
        .at("/healthz", |r| r.get(healthz))
        .at("/readyz", |r| r.get(readyz))
        .at("/metrics", |r| r.get(metrics::export))
        .at("/api/v1/openapi.json", |r| r.get(openapi::document))
        .at("/openapi.json", |r| r.get(openapi::document_at_root));
    pages::routes(&mut routes);
    conversations::routes(&mut routes);
    agent::routes(&mut routes);
    privacy::routes(&mut routes);
    editor::routes(&mut routes);
    routes
}

fn routes(config: &mut web::ServiceConfig) {
    for endpoint in all_routes().endpoints {
        config.service(endpoint.resource);
    }
}

/// Every (method, path) the server serves, as the router registers it, e.g.
/// `("POST", "/api/v1/conversations")`. The OpenAPI test checks the document against it.
pub fn served_routes() -> Vec<(String, String)> {
    all_routes()
        .endpoints
        .iter()
        .flat_map(|e| e.methods.iter().map(|m| (m.to_string(), e.path.to_string())))
        .collect()
}

/// Where the route modules register their routes. A module gets this, not actix's
/// `ServiceConfig`, so every route goes through [`Endpoint`], which records its method and
/// path ([`served_routes`]); other methods get a JSON 405 with the `Allow` header.
#[derive(Default)]
pub(crate) struct Routes {
    endpoints: Vec<Endpoint>,
}

impl Routes {
    /// The routes at `path`: every method of a path is registered in one call.
    pub fn at(&mut self, path: &'static str, build: impl FnOnce(Endpoint) -> Endpoint) -> &mut Self {
        assert!(self.endpoints.iter().all(|e| e.path != path), "{path} is registered twice");
        let mut endpoint = build(Endpoint { path, resource: web::resource(path), methods: Vec::new() });
        let allow: Vec<&str> = endpoint.methods.iter().map(Method::as_str).collect();
        let allow = actix_web::http::header::HeaderValue::from_str(&allow.join(", "))
            .expect("method names are header text");
        endpoint.resource = endpoint.resource.default_service(web::to(move || {
            let mut response = method_not_allowed().error_response();
            response.headers_mut().insert(actix_web::http::header::ALLOW, allow.clone());
            async move { response }
        }));
        self.endpoints.push(endpoint);
        self
    }
}

pub(crate) struct Endpoint {
    path: &'static str,
    resource: actix_web::Resource,
    methods: Vec<Method>,
}

impl Endpoint {
    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::GET, handler)
    }

    pub fn head<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::HEAD, handler)
    }

    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::POST, handler)
    }

    pub fn put<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::PUT, handler)
    }

    pub fn delete<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::DELETE, handler)
    }

    /// Data the handlers at this path read (`web::Data<T>`).
    pub fn app_data<U: 'static>(mut self, data: U) -> Self {
        self.resource = self.resource.app_data(data);
        self
    }

    fn method<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.resource = self.resource.route(web::method(method.clone()).to(handler));
        self.methods.push(method);
        self
    }
}

/// Lets the widget on council pages of another origin call the API.
fn cors(allowed_origins: &[String]) -> actix_cors::Cors {
    let cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "DELETE"])
        .allowed_headers([actix_web::http::header::AUTHORIZATION, actix_web::http::header::CONTENT_TYPE])
        .expose_headers([actix_web::http::header::RETRY_AFTER])
        .max_age(3600);
    if allowed_origins.iter().any(|o| o == "*") {
        cors.allow_any_origin()
    } else {
        allowed_origins.iter().fold(cors, |cors, origin| cors.allowed_origin(origin))
    }
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|error, _| {
        use actix_web::error::JsonPayloadError;
        let api = match &error {
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                ApiError::new(ErrorCode::PayloadTooLarge, "The request body is too large.")
            }
            JsonPayloadError::ContentType => {
                ApiError::new(ErrorCode::InvalidRequest, "Send the body as application/json.")
            }
            JsonPayloadError::Deserialize(e) if e.is_data() => {
                ApiError::new(ErrorCode::InvalidRequest, format!("The JSON body does not fit: {e}"))
            }
            _ => ApiError::new(ErrorCode::MalformedJson, "The request body is not valid JSON."),
        };
        api.into()
    })
}

/// Liveness: the process is up (whatever its store does).
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    responses((status = 200, description = "Up: `ok`.", body = wire::Health))
)]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(wire::Health { status: "ok".into() })
}

/// Readiness: the store answers.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready: `ready`.", body = wire::Health),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.ping().await?;
    Ok(HttpResponse::Ok().json(wire::Health { status: "ready".into() }))
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound, "There is nothing at this address."))
}

fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "This address does not take that method.")
}
