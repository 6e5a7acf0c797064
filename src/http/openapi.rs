//! The API contract as an OpenAPI 3.1 document, made once at start-up from the route handlers'
//! `#[utoipa::path]` annotations (each route module lists its own in an `Api`) and the wire
//! types, and served at `/api/v1/openapi.json` and `/openapi.json`.
//!
//! An error response is annotated with the codes it can carry, as its description:
//! `(status = 404, description = "conversation_not_found")`; the sets every staff route or every
//! store-backed route shares are named once (`responses.rs`). [`json`] checks each code against
//! the error table (src/error.rs), status included, and gives the response the error body with
//! `code` limited to those codes, and the Retry-After header on a 429 or 503. The pages (the
//! widget, the demo page and the consoles) are described from the list the router serves them
//! from. A new conversation's response links to every operation on a conversation, saying which
//! of its values each one takes (OpenAPI links; a tool such as Schemathesis follows them). What
//! the settings decide (the longest message, the teams) is this instance's.

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use actix_web::web::{self, Bytes};
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::config::Settings;
use crate::error::{ErrorBody, ErrorCode};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "herts-assistant",
        description = "Hertfordshire County Council's chat assistant: the resident's widget API, \
            the agent console's and the editors'. Errors are `{\"error\": {\"code\", \"message\"}}`; \
            each operation lists the codes it can answer with (`ErrorCode` lists them all). A \
            wrong conversation token answers exactly as an unknown conversation does (404)."
    ),
    paths(super::healthz, super::readyz, super::metrics::export, document, document_at_root),
    components(schemas(ErrorBody, super::live::Status)),
    tags(
        (name = "resident", description = "The widget: a conversation, opened by its own token."),
        (name = "agent", description = "The agent console: needs an agent token with the `agent` role."),
        (name = "editor", description = "Content editors: needs a token with the `editor` role."),
        (name = "operations", description = "Health, readiness, metrics and this document."),
        (name = "pages", description = "The widget, the demo page, the privacy notice and the agent \
            console, gzipped when the browser accepts it, with an ETag."),
    )
)]
struct ApiDoc;

/// The document, serialised once.
pub struct Document {
    json: Bytes,
}

impl Document {
    /// Panics if an annotation names an error code the table does not have (at that status):
    /// a mistake in the code, which every test run meets at once.
    pub fn build(settings: &Settings) -> Self {
        let json = serde_json::to_vec(&json(settings)).expect("the document serialises");
        Self { json: Bytes::from(json) }
    }
}

/// The whole document as JSON, for an instance with these settings.
pub fn json(settings: &Settings) -> Value {
    let mut doc = ApiDoc::openapi();
    for part in [
        super::conversations::Api::openapi(),
        super::privacy::Api::openapi(),
        super::agent::Api::openapi(),
        super::editor::Api::openapi(),
    ] {
        doc.merge(part);
    }
    let mut doc = serde_json::to_value(doc).expect("the document is JSON");
    add_security_schemes(&mut doc);
    apply_settings(&mut doc, settings);
    add_pages(&mut doc);
    add_links_from_a_new_conversation(&mut doc);
    for (path, item) in doc["paths"].as_object_mut().expect("paths").iter_mut() {
        for (method, operation) in item.as_object_mut().expect("a path item").iter_mut() {
            for (status, response) in operation["responses"].as_object_mut().expect("responses").iter_mut() {
                let status: u16 = status.parse().expect("a numeric status");
                if status >= 400 {
                    describe_error(response, status, &format!("{} {path}", method.to_uppercase()));
                }
                if let Some(stream) = response.get_mut("content").and_then(|c| c.get_mut("text/event-stream"))
                {
                    if path.ends_with("/queue/events") {
                        stream["schema"] = queue_event_schema();
                        response["description"] = Value::from(super::live::QUEUE_EVENTS);
                    } else {
                        stream["schema"] = event_schema();
                        response["description"] = Value::from(super::live::EVENTS);
                    }
                }
            }
        }
    }
    doc
}

/// One server-sent event, as OpenAPI before 3.2 describes a stream (its `schema` is each event's):
/// the event's name, its `id:` line and its `data:`, a JSON text whose schema depends on the name.
fn event_schema() -> Value {
    let event = |name: &str, data: Value, id_required: bool| {
        let mut required = vec!["event", "data"];
        if id_required {
            required.push("id");
        }
        json!({
            "type": "object",
            "required": required,
            "properties": {
                "event": {"const": name},
                "id": {"type": "string", "pattern": "^[0-9]+$"},
                "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data},
            },
        })
    };
    json!({
        "oneOf": [
            event("message", json!({"$ref": "#/components/schemas/Message"}), true),
            event("status", json!({"$ref": "#/components/schemas/Status"}), false),
            event("gone", json!({"type": "object", "maxProperties": 0}), false),
        ]
    })
}

/// The console's queue stream has one event: `queue`, with data `{}`.
fn queue_event_schema() -> Value {
    json!({
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": "queue"},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"type": "object", "maxProperties": 0},
            },
        },
    })
}

/// The limits and choices that are the instance's own.
fn apply_settings(doc: &mut Value, settings: &Settings) {
    let schemas = &mut doc["components"]["schemas"];
    property(schemas, "PostMessage", "text")["maxLength"] = json!(settings.max_text_chars);
    property(schemas, "AgentText", "text")["maxLength"] = json!(settings.max_text_chars * 4);
    let teams: Vec<&str> = settings.teams.iter().map(|t| t.id.as_str()).collect();
    property(schemas, "Transfer", "team")["enum"] = json!(teams);
}

fn property<'d>(schemas: &'d mut Value, schema: &str, name: &str) -> &'d mut Value {
    schemas
        .get_mut(schema)
        .and_then(|s| s.get_mut("properties"))
        .and_then(|p| p.get_mut(name))
        .unwrap_or_else(|| panic!("the document has no {schema}.{name}"))
}

/// How each route authorises: a bearer token of one of three kinds.
fn add_security_schemes(doc: &mut Value) {
    let bearer = |description: &str| json!({"type": "http", "scheme": "bearer", "description": description});
    doc["components"]["securitySchemes"] = json!({
        "conversation_token": bearer(
            "The `token` given when the conversation was created (64 hex characters): it opens \
             that conversation only. None, 401 `missing_token`; a wrong one, 404 \
             `conversation_not_found`, as for no such conversation."
        ),
        "agent_token": bearer(
            "An agent's token, configured by its SHA-256 (`HA_AGENTS`); it needs the `agent` role. \
             None, 401 `missing_token`; unknown, 401 `unauthorized`; without the role, 403 \
             `forbidden`. A browser page of another origin gets 403 `forbidden` too, unless \
             `HA_CONSOLE_ORIGINS` names it."
        ),
        "editor_token": bearer(
            "The same kind of token as an agent's, with the `editor` role; answered as for \
             `agent_token`."
        ),
    });
}

/// Links the 201 of `POST /api/v1/conversations` to every operation on a conversation: its `id`
/// is the path's `{id}`, and its `token` the bearer token of the resident's operations; and a
/// message left for a team to the agent's route that marks it done.
fn add_links_from_a_new_conversation(doc: &mut Value) {
    let mut links = serde_json::Map::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.contains("/conversations/{id}") {
            continue;
        }
        for operation in item.as_object().expect("a path item").values() {
            let Some(id) = operation["operationId"].as_str() else { continue };
            let mut parameters = json!({"path.id": "$response.body#/id"});
            let resident = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("conversation_token").is_some()));
            if resident {
                parameters["header.Authorization"] = json!("Bearer {$response.body#/token}");
            }
            links.insert(id.to_string(), json!({"operationId": id, "parameters": parameters}));
        }
    }
    doc["paths"]["/api/v1/conversations"]["post"]["responses"]["201"]["links"] = Value::Object(links);
    // A message left for a team is what an agent marks done.
    doc["paths"]["/api/v1/conversations/{id}/offline-message"]["post"]["responses"]["201"]["links"] = json!({
        "agent_offline_message_done": {
            "operationId": "agent_offline_message_done",
            "parameters": {"path.id": "$response.body#/id"},
        }
    });
}

/// Replaces an error response's annotation (its codes) with its description and body.
fn describe_error(response: &mut Value, status: u16, operation: &str) {
    let annotated = response["description"].as_str().unwrap_or_default().to_string();
    let codes: Vec<&str> = annotated.split(',').map(str::trim).collect();
    for code in &codes {
        match ErrorCode::from_code(code) {
            Some(known) if known.row().0.as_u16() == status => {}
            Some(known) => panic!(
                "{operation}: {status} names `{code}`, which the error table (src/error.rs) answers with {}",
                known.row().0.as_u16()
            ),
            None => {
                panic!("{operation}: {status} names `{code}`, which is not in the error table (src/error.rs)")
            }
        }
    }
    let listed: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    response["description"] = Value::from(format!("Error code {}.", listed.join(" or ")));
    response["content"] = json!({
        "application/json": {
            "schema": {
                "allOf": [{"$ref": "#/components/schemas/ErrorBody"}],
                "properties": {"error": {"properties": {"code": {"enum": codes}}}},
            }
        }
    });
    if status == 429 || status == 503 {
        response["headers"] = json!({
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "required": true,
                "schema": {"type": "integer", "minimum": 1},
            }
        });
    }
}

/// The pages, from the list the router serves them from: GET and HEAD, 200 or 304.
fn add_pages(doc: &mut Value) {
    let paths = doc["paths"].as_object_mut().expect("paths");
    for (path, content_type) in super::pages::documented() {
        let name = match path.trim_start_matches('/') {
            "" => "demo".to_string(),
            other => other.replace('.', "_"),
        };
        let operation = |method: &str, body: bool| {
            let mut ok = json!({"description": "The page, gzipped when the request accepts gzip."});
            if body {
                ok["content"] = json!({ content_type: {"schema": {"type": "string"}} });
            }
            json!({
                "tags": ["pages"],
                "operationId": format!("page_{method}_{name}"),
                "parameters": [{
                    "name": "If-None-Match",
                    "in": "header",
                    "description": "The ETag of a copy the client holds.",
                    "schema": {"type": "string"},
                }],
                "responses": {
                    "200": ok,
                    "304": {"description": "The client's copy is current (its ETag matched)."},
                },
            })
        };
        paths.insert(
            path.to_string(),
            json!({"get": operation("get", true), "head": operation("head", false)}),
        );
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    tag = "operations",
    responses((status = 200, description = "This document (OpenAPI 3.1).", body = Object))
)]
pub(super) async fn document(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().insert_header(ContentType::json()).body(document.json.clone())
}

/// This document, where tools look for it first.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi_at_root",
    tag = "operations",
    responses((status = 200, description = "The same document as `/api/v1/openapi.json`.", body = Object))
)]
pub(super) async fn document_at_root(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().insert_header(ContentType::json()).body(document.json.clone())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_builds_and_names_only_codes_of_the_table() {
        let doc = super::json(&crate::config::Settings::default());
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")));
    }
}
