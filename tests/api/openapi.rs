//! The API contract: the OpenAPI 3.1 document the server serves describes every route it serves,
//! and every error code it names is in the error table.

use std::collections::BTreeSet;

use herts_assistant::error::ErrorCode;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{StoreKind, TestApp, spawn_app};

async fn document(app: &TestApp, path: &str) -> Value {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], "application/json", "{path}");
    response.json().await.unwrap()
}

/// Every (method, path) the document describes, e.g. `("POST", "/api/v1/conversations")`.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().expect("a path item").keys().map(|method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn every_route_the_server_serves_is_in_the_document() {
    let app = spawn_app(StoreKind::Memory).await;
    let doc = document(&app, "/api/v1/openapi.json").await;
    assert_eq!(doc, document(&app, "/openapi.json").await, "both addresses serve one document");
    let documented = operations(&doc);
    // The router is built from one list of routes, and every route module can only add to it
    // (it is given that list, not actix's configuration), so `served_routes` is exactly what the
    // server serves, method by method. A route added without its `#[utoipa::path]` annotation,
    // or whose annotation is not in its module's `Api`, is in that list and not in the
    // document; an annotation whose method or path differs from the route's is caught too.
    let served: BTreeSet<(String, String)> = herts_assistant::http::served_routes().into_iter().collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(undocumented.is_empty(), "served but missing from the OpenAPI document: {undocumented:?}");
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(unserved.is_empty(), "in the OpenAPI document but not served: {unserved:?}");
    assert!(served.len() > 40, "{} routes: the list of what is served is not being read", served.len());

    // And each one is really routed: never the answer for an unknown address or method.
    for (method, path) in &documented {
        let url = app.url(&path.replace("{id}", "0123456789abcdef0123456789abcdef"));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let response = app.client.request(method.clone(), url).send().await.unwrap();
        let status = response.status().as_u16();
        let body =
            if method == Method::HEAD { Value::Null } else { response.json().await.unwrap_or(Value::Null) };
        let code = body["error"]["code"].as_str().unwrap_or_default();
        assert!(
            status != 405 && !(status == 404 && code == "not_found"),
            "{method} {path} is documented but answers {status} {code}"
        );
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_the_error_table() {
    let app = spawn_app(StoreKind::Memory).await;
    let doc = document(&app, "/api/v1/openapi.json").await;
    let version = doc["openapi"].as_str().expect("a version");
    assert!(version.starts_with("3.1."), "OpenAPI {version}");

    // The error body, and in it every code of the table.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["ErrorBody"]["properties"]["error"]["$ref"], "#/components/schemas/ErrorDetail");
    assert_eq!(schemas["ErrorDetail"]["properties"]["code"]["$ref"], "#/components/schemas/ErrorCode");
    let listed: Vec<&str> =
        schemas["ErrorCode"]["enum"].as_array().expect("codes").iter().map(|c| c.as_str().unwrap()).collect();
    let table: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.row().1).collect();
    assert_eq!(listed, table);

    // Each operation: a unique id, a success, its error responses' codes from the table at
    // their status, and security schemes that exist.
    let schemes = doc["components"]["securitySchemes"].as_object().expect("security schemes");
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let name = format!("{} {path}", method.to_uppercase());
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{name} has no operationId"));
            assert!(ids.insert(id.to_string()), "{name}: operationId {id} is used twice");
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.keys().any(|s| s.starts_with('2')), "{name} has no success");
            for (status, response) in responses {
                let status: u16 = status.parse().unwrap();
                if status < 400 {
                    continue;
                }
                let schema = &response["content"]["application/json"]["schema"];
                assert_eq!(schema["allOf"][0]["$ref"], "#/components/schemas/ErrorBody", "{name} {status}");
                let codes = schema["properties"]["error"]["properties"]["code"]["enum"].as_array();
                for code in codes.unwrap_or_else(|| panic!("{name} {status} names no error code")) {
                    let code = ErrorCode::from_code(code.as_str().unwrap())
                        .unwrap_or_else(|| panic!("{name} {status}: {code} is not in the table"));
                    assert_eq!(code.row().0.as_u16(), status, "{name}: {code:?}");
                }
                if matches!(status, 429 | 503) {
                    assert_eq!(response["headers"]["Retry-After"]["required"], true, "{name} {status}");
                }
            }
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains_key(scheme), "{name}: no security scheme {scheme}");
                }
            }
        }
    }
    // Resident, agent and editor routes each say which token they take.
    for (path, scheme) in [
        ("/api/v1/conversations/{id}/messages", "conversation_token"),
        ("/api/v1/agent/queue", "agent_token"),
        ("/api/v1/editor/publish", "editor_token"),
    ] {
        let item = &doc["paths"][path];
        let operation = item.as_object().unwrap().values().next().unwrap();
        assert!(operation["security"][0].get(scheme).is_some(), "{path} takes {scheme}");
    }
}
