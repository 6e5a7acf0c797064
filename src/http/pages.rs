//! The widget, the demo page, the agent console and the content editor, compiled into the
//! binary so one file is the whole product. Each is gzipped once, at the best level, when the
//! server starts, and sent so to browsers that accept it (the widget is under a third of its
//! size); an ETag lets a page that loads the widget again get a 304 and no body.

use std::io::Write;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use super::{AppState, Routes};

const DEMO_PAGE: &str = include_str!("../../widget/demo.html");
const DEMO_CSS: &str = include_str!("../../widget/demo.css");
const PRIVACY_PAGE: &str = include_str!("../../widget/privacy.html");
const WIDGET_JS: &str = include_str!("../../widget/widget.js");
const WIDGET_CSS: &str = include_str!("../../widget/widget.css");
const AGENT_PAGE: &str = include_str!("../../widget/agent.html");
const AGENT_JS: &str = include_str!("../../widget/agent.js");
const AGENT_CSS: &str = include_str!("../../widget/agent.css");
const EDITOR_PAGE: &str = include_str!("../../widget/editor.html");
const EDITOR_JS: &str = include_str!("../../widget/editor.js");
const EDITOR_CSS: &str = include_str!("../../widget/editor.css");

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Where a page may be framed: the consoles never; the demo page where settings say.
#[derive(Clone, Copy)]
enum Framing {
    Never,
    AsConfigured,
}

/// The pages' policy: every script and style from this origin only, nothing inline, so that
/// text that ever slipped into markup could not run; the API is called on this origin too.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'";

/// One file as it is sent.
struct Asset {
    plain: &'static str,
    gzipped: Vec<u8>,
    content_type: &'static str,
    /// Pages carry a Content-Security-Policy; scripts and styles do not need one.
    framing: Option<Framing>,
    /// Weak: the plain and the gzipped bytes are one file in meaning, not in bytes.
    etag: HeaderValue,
}

impl Asset {
    fn new(plain: &'static str, content_type: &'static str, framing: Option<Framing>) -> Self {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        // Writing to a Vec cannot fail.
        let gzipped = encoder.write_all(plain.as_bytes()).and_then(|_| encoder.finish()).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(plain.as_bytes()));
        let etag =
            HeaderValue::from_str(&format!("W/\"{}\"", &digest[..32])).expect("hex is a valid header value");
        Self { plain, gzipped, content_type, framing, etag }
    }
}

/// Every page: its path, its text, its type and where it may be framed (pages only). The router
/// and the OpenAPI document are both made from this list.
const PAGES: [(&str, &str, &str, Option<Framing>); 11] = [
    ("/", DEMO_PAGE, HTML, Some(Framing::AsConfigured)),
    ("/demo.css", DEMO_CSS, CSS, None),
    ("/privacy", PRIVACY_PAGE, HTML, Some(Framing::AsConfigured)),
    ("/widget.js", WIDGET_JS, JAVASCRIPT, None),
    ("/widget.css", WIDGET_CSS, CSS, None),
    ("/agent", AGENT_PAGE, HTML, Some(Framing::Never)),
    ("/agent.js", AGENT_JS, JAVASCRIPT, None),
    ("/agent.css", AGENT_CSS, CSS, None),
    ("/editor", EDITOR_PAGE, HTML, Some(Framing::Never)),
    ("/editor.js", EDITOR_JS, JAVASCRIPT, None),
    ("/editor.css", EDITOR_CSS, CSS, None),
];

pub fn routes(routes: &mut Routes) {
    for (path, plain, content_type, framing) in PAGES {
        let asset = web::Data::new(Asset::new(plain, content_type, framing));
        // HEAD answers as GET does, without the body (actix leaves it out).
        routes.at(path, |r| r.app_data(asset).get(page).head(page));
    }
}

/// Each page's path and content type, for the OpenAPI document.
pub fn documented() -> impl Iterator<Item = (&'static str, &'static str)> {
    PAGES.into_iter().map(|(path, _, content_type, _)| (path, content_type))
}

async fn page(request: HttpRequest, asset: web::Data<Asset>, state: web::Data<AppState>) -> HttpResponse {
    let header_text =
        |name| request.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).unwrap_or("");
    let etag = asset.etag.to_str().unwrap_or_default();
    let seen =
        header_text(header::IF_NONE_MATCH).split(',').any(|tag| tag.trim() == etag || tag.trim() == "*");
    let accepts_gzip = header_text(header::ACCEPT_ENCODING).split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        parts.next() == Some("gzip") && parts.all(|p| p.replace(' ', "") != "q=0")
    });
    let mut response = if seen { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::ETAG, asset.etag.clone()));
    if let Some(framing) = asset.framing {
        let ancestors = match framing {
            Framing::Never => "'none'",
            Framing::AsConfigured => state.settings.frame_ancestors.as_str(),
        };
        // The setting is checked at load to hold only sources, so this is a valid header.
        if let Ok(policy) = HeaderValue::from_str(&format!("{CSP}; frame-ancestors {ancestors}")) {
            response.insert_header((header::CONTENT_SECURITY_POLICY, policy));
        }
    }
    match (seen, accepts_gzip) {
        (true, _) => response.finish(),
        (false, true) => response
            .content_type(asset.content_type)
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(asset.gzipped.clone()),
        (false, false) => response.content_type(asset.content_type).body(asset.plain),
    }
}
