//! The widget, the demo page, the agent console and the content editor, compiled into the
//! binary so one file is the whole product. Each is gzipped once, at the best level, when the
//! server starts, and sent so to browsers that accept it (the widget is under a third of its
//! size); an ETag lets a page that loads the widget again get a 304 and no body.
//!
//! The three front ends share one toolkit, `widget/kit/` (elements, the Markdown subset,
//! calls to the service, event streams): the consoles import its files as ES modules, and the
//! widget, one classic script on any council's page, has them put inside it here.

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
/// The widget's own source; what is sent is [`widget_script`].
const WIDGET_SOURCE: &str = include_str!("../../widget/widget.js");
const WIDGET_CSS: &str = include_str!("../../widget/widget.css");
const AGENT_PAGE: &str = include_str!("../../widget/agent.html");
const AGENT_JS: &str = include_str!("../../widget/agent.js");
const AGENT_CSS: &str = include_str!("../../widget/agent.css");
const EDITOR_PAGE: &str = include_str!("../../widget/editor.html");
const EDITOR_JS: &str = include_str!("../../widget/editor.js");
const EDITOR_CSS: &str = include_str!("../../widget/editor.css");
/// The consoles' shared look, under each page's own stylesheet.
const CONSOLE_CSS: &str = include_str!("../../widget/kit/console.css");

/// The toolkit's modules, by their path on the site (and under widget/).
const KIT: [(&str, &str); 5] = [
    ("/kit/dom.js", include_str!("../../widget/kit/dom.js")),
    ("/kit/markup.js", include_str!("../../widget/kit/markup.js")),
    ("/kit/api.js", include_str!("../../widget/kit/api.js")),
    ("/kit/events.js", include_str!("../../widget/kit/events.js")),
    ("/kit/console.js", include_str!("../../widget/kit/console.js")),
];

fn is_blank_or_comment(line: &str) -> bool {
    let line = line.trim_start();
    line.is_empty() || line.starts_with("//")
}

/// The line in widget.js that names the toolkit modules to put in its place.
const TOOLKIT_LINE: &str = "// @toolkit ";

/// The widget as it is sent: widget.js with the modules its `// @toolkit` line names put in
/// that line's place, without their `import` lines and `export` words, so they share the
/// widget's one function scope; whole-line comments, the modules' headers and blank lines are
/// left out (residents' pages load this; the files keep them). A text step rather than a bundler (and a Node
/// build chain): the modules are written for it, with imports, exports, whole-line comments
/// and the `/*! ... */` header each only at the start of a line.
pub fn widget_script() -> String {
    let mut script = String::with_capacity(WIDGET_SOURCE.len() * 2);
    for line in WIDGET_SOURCE.lines() {
        let Some(modules) = line.trim_start().strip_prefix(TOOLKIT_LINE) else {
            if !is_blank_or_comment(line) {
                script.push_str(line);
                script.push('\n');
            }
            continue;
        };
        for name in modules.split_whitespace() {
            // The names are this file's and the list above's, both compiled in: a test loads them.
            let (_, source) =
                KIT.iter().find(|(path, _)| path[1..] == *name).expect("a toolkit module widget.js names");
            let body = match source.strip_prefix("/*!").and_then(|s| s.split_once("*/")) {
                Some((_header, body)) => body,
                None => source,
            };
            for module_line in body.lines() {
                if is_blank_or_comment(module_line) || module_line.starts_with("import ") {
                    continue;
                }
                script.push_str(module_line.strip_prefix("export ").unwrap_or(module_line));
                script.push('\n');
            }
        }
    }
    script
}

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
    plain: web::Bytes,
    gzipped: web::Bytes,
    content_type: &'static str,
    /// Pages carry a Content-Security-Policy; scripts and styles do not need one.
    framing: Option<Framing>,
    /// Weak: the plain and the gzipped bytes are one file in meaning, not in bytes.
    etag: HeaderValue,
}

impl Asset {
    fn new(plain: String, content_type: &'static str, framing: Option<Framing>) -> Self {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        // Writing to a Vec cannot fail.
        let gzipped = encoder.write_all(plain.as_bytes()).and_then(|_| encoder.finish()).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(plain.as_bytes()));
        let etag =
            HeaderValue::from_str(&format!("W/\"{}\"", &digest[..32])).expect("hex is a valid header value");
        Self { plain: plain.into(), gzipped: gzipped.into(), content_type, framing, etag }
    }
}

/// A page's text: as written, or made when the server starts.
#[derive(Clone, Copy)]
enum Text {
    Written(&'static str),
    Made(fn() -> String),
}
use Text::{Made, Written};

/// Every page: its path, its text, its type and where it may be framed (pages only). The router
/// and the OpenAPI document are both made from this list and the toolkit's.
const PAGES: [(&str, Text, &str, Option<Framing>); 12] = [
    ("/", Written(DEMO_PAGE), HTML, Some(Framing::AsConfigured)),
    ("/demo.css", Written(DEMO_CSS), CSS, None),
    ("/privacy", Written(PRIVACY_PAGE), HTML, Some(Framing::AsConfigured)),
    ("/widget.js", Made(widget_script), JAVASCRIPT, None),
    ("/widget.css", Written(WIDGET_CSS), CSS, None),
    ("/agent", Written(AGENT_PAGE), HTML, Some(Framing::Never)),
    ("/agent.js", Written(AGENT_JS), JAVASCRIPT, None),
    ("/agent.css", Written(AGENT_CSS), CSS, None),
    ("/editor", Written(EDITOR_PAGE), HTML, Some(Framing::Never)),
    ("/editor.js", Written(EDITOR_JS), JAVASCRIPT, None),
    ("/editor.css", Written(EDITOR_CSS), CSS, None),
    ("/kit/console.css", Written(CONSOLE_CSS), CSS, None),
];

pub fn routes(routes: &mut Routes) {
    let kit = KIT.map(|(path, source)| (path, Written(source), JAVASCRIPT, None));
    for (path, text, content_type, framing) in PAGES.into_iter().chain(kit) {
        let plain = match text {
            Written(text) => text.to_string(),
            Made(make) => make(),
        };
        let asset = web::Data::new(Asset::new(plain, content_type, framing));
        // HEAD answers as GET does, without the body (actix leaves it out).
        routes.at(path, |r| r.app_data(asset).get(page).head(page));
    }
}

/// Each page's path and content type, for the OpenAPI document.
pub fn documented() -> impl Iterator<Item = (&'static str, &'static str)> {
    PAGES
        .into_iter()
        .map(|(path, _, content_type, _)| (path, content_type))
        .chain(KIT.map(|(path, _)| (path, JAVASCRIPT)))
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
        (false, false) => response.content_type(asset.content_type).body(asset.plain.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names a script declares at its top level (the kit's at column 0, the widget's inside
    /// its one function at two spaces), `function x` and `var x` alike.
    fn declared(source: &str, indent: &str) -> Vec<String> {
        let mut names = Vec::new();
        for line in source.lines() {
            let Some(rest) = line.strip_prefix(indent) else { continue };
            let rest = rest.strip_prefix("export ").unwrap_or(rest);
            let Some(rest) = rest.strip_prefix("function ").or_else(|| rest.strip_prefix("var ")) else {
                continue;
            };
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            names.push(name);
        }
        names
    }

    #[test]
    fn the_widget_is_sent_with_the_toolkit_inside_it() {
        let script = widget_script();
        assert!(!script.contains(TOOLKIT_LINE), "the @toolkit line is replaced");
        assert!(script.lines().all(|l| !l.starts_with("import ") && !l.starts_with("export ")));
        for needed in ["function el(", "function renderText(", "function request(", "function readEvents("] {
            assert!(script.contains(needed), "the widget has {needed}");
        }
        // The consoles' own calls are not the widget's business.
        assert!(!script.contains("function staffApi(") && !script.contains("herts-assistant toolkit"));
        assert!(script.len() > WIDGET_SOURCE.len());
    }

    /// Put inside the widget, the toolkit shares its scope: a name declared twice would
    /// silently replace the other.
    #[test]
    fn no_name_in_the_widget_repeats_one_of_the_toolkits() {
        let line =
            WIDGET_SOURCE.lines().find_map(|l| l.trim_start().strip_prefix(TOOLKIT_LINE)).expect("@toolkit");
        let mut kit_names = Vec::new();
        for name in line.split_whitespace() {
            let (_, source) = KIT.iter().find(|(path, _)| path[1..] == *name).expect("a known module");
            kit_names.extend(declared(source, ""));
        }
        assert!(kit_names.contains(&"renderText".to_string()));
        let widget_names = declared(WIDGET_SOURCE, "  ");
        assert!(widget_names.contains(&"renderMessage".to_string()));
        for name in &widget_names {
            assert!(!kit_names.contains(name), "widget.js declares {name}, which the toolkit does");
        }
    }
}
