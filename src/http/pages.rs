//! The widget and the demo page, compiled into the binary so one file is the whole product.

use actix_web::{HttpResponse, web};

const DEMO_PAGE: &str = include_str!("../../widget/demo.html");
const WIDGET_JS: &str = include_str!("../../widget/widget.js");
const WIDGET_CSS: &str = include_str!("../../widget/widget.css");
const AGENT_PAGE: &str = include_str!("../../widget/agent.html");
const AGENT_JS: &str = include_str!("../../widget/agent.js");
const AGENT_CSS: &str = include_str!("../../widget/agent.css");

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(|| async { page(DEMO_PAGE, "text/html; charset=utf-8") }))
        .route("/widget.js", web::get().to(|| async { page(WIDGET_JS, "text/javascript; charset=utf-8") }))
        .route("/agent", web::get().to(|| async { page(AGENT_PAGE, "text/html; charset=utf-8") }))
        .route("/agent.js", web::get().to(|| async { page(AGENT_JS, "text/javascript; charset=utf-8") }))
        .route("/agent.css", web::get().to(|| async { page(AGENT_CSS, "text/css; charset=utf-8") }))
        .route("/widget.css", web::get().to(|| async { page(WIDGET_CSS, "text/css; charset=utf-8") }));
}

fn page(body: &'static str, content_type: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=300"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}
