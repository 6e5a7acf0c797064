//! Response sets that many routes share in their OpenAPI annotations, named once. A leaf
//! module: route modules use it, and `openapi` (which lists the routes) need not be imported
//! by them.

/// The responses of every staff route (agents' and editors'): a token missing or unknown, or
/// one without the route's role. Named in `responses(...)` instead of repeated.
#[derive(utoipa::IntoResponses)]
pub enum StaffAccess {
    #[response(status = 401, description = "missing_token, unauthorized")]
    Unauthorized,
    #[response(status = 403, description = "forbidden")]
    Forbidden,
}

/// The responses of every route that reads or writes the store: an unexpected failure, and
/// the store not answering (with Retry-After).
#[derive(utoipa::IntoResponses)]
pub enum StoreFailures {
    #[response(status = 500, description = "internal_error")]
    Internal,
    #[response(status = 503, description = "store_unavailable")]
    Unavailable,
}
