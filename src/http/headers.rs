//! Headers every response carries: no MIME sniffing, no referrer, and `no-store` on the API,
//! whose answers hold tokens and transcripts that no cache may keep. Pages add their own
//! Content-Security-Policy (src/http/pages.rs). The agent and editor APIs answer a browser
//! only from this service's own pages (or origins set in `HA_CONSOLE_ORIGINS`): the widget's
//! API is open to council sites, the consoles' is not.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use super::AppState;
use crate::error::{ApiError, ErrorCode};

pub async fn secure(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let api = request.path().starts_with("/api/");
    let console = ["/api/v1/agent", "/api/v1/editor"].iter().any(|p| request.path().starts_with(p));
    if console && !console_origin_allowed(&request) {
        let refused =
            ApiError::new(ErrorCode::Forbidden, "The consoles' API answers only pages of this service.");
        let (http_request, _) = request.into_parts();
        let mut response = ServiceResponse::new(http_request, refused.error_response()).map_into_right_body();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(response);
    }
    let mut response = next.call(request).await?.map_into_left_body();
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// A request with no Origin (not from a browser page) or from this service's own origin, or one
/// the settings name.
fn console_origin_allowed(request: &ServiceRequest) -> bool {
    let Some(origin) = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let own = request.connection_info().host().to_string();
    let same = origin.split_once("://").is_some_and(|(_, host)| host.eq_ignore_ascii_case(&own));
    same || request
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.settings.console_origins.iter().any(|allowed| allowed == origin))
}
