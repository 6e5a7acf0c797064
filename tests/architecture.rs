//! The module graph has no cycles (ARCHITECTURE.md, "Architecture invariants"): between the
//! library's top-level modules (`crate::X`), and between the route modules of `src/http`
//! (`super::X` or `crate::http::X` from a sibling). It reads the sources, so it needs no build of
//! the library; it is a text scan, not a compiler: comments are skipped, and a path counts
//! wherever it is written (`use` or inline). Also: the handoff service and engine building know
//! nothing of HTTP.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module name -> the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The text without `//` comments (doc comments included), so prose naming a module is no edge.
fn without_comments(text: &str) -> String {
    text.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The first identifier of each item after `prefix::`: `crate::a::b` gives `a`,
/// `crate::{a, b::c}` gives `a` and `b`.
fn names_after(text: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        // `$crate::` and `foo_super::` are other paths.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let after = rest.trim_start();
        if let Some(group) = after.strip_prefix('{') {
            // Items at the group's top level, separated by commas.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start && depth == 0 => {
                        item_start = false;
                        names.push(ident(&group[i..]));
                    }
                    _ => {}
                }
            }
        } else {
            names.push(ident(after));
        }
    }
    names.retain(|n| !n.is_empty() && n != "self");
    names
}

/// The two graphs: top-level modules of the library, and the modules inside `src/http`.
fn graphs(src: &Path) -> (Graph, Graph) {
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let top: BTreeSet<String> = without_comments(&lib)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|l| l.trim_end_matches(';').trim().to_string())
        .collect();
    let http_dir = src.join("http");
    let mut files = Vec::new();
    rust_files(src, &mut files);
    // `src/http/x.rs` and `src/http/x/mod.rs` are the module `x`.
    let http_modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&http_dir).ok())
        .filter_map(|f| f.iter().next()?.to_str())
        .map(|m| m.trim_end_matches(".rs").to_string())
        .filter(|m| m != "mod")
        .collect();
    let (mut modules, mut http) = (Graph::new(), Graph::new());
    for name in &top {
        modules.entry(name.clone()).or_default();
    }
    for name in &http_modules {
        http.entry(name.clone()).or_default();
    }
    for file in &files {
        let relative = file.strip_prefix(src).expect("under src");
        let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let first = parts[0].trim_end_matches(".rs").to_string();
        // The binary (main.rs) uses the library by its name, and lib.rs only declares modules.
        if !top.contains(&first) {
            continue;
        }
        let text = without_comments(&std::fs::read_to_string(file).expect("a source file"));
        for name in names_after(&text, "crate::") {
            if top.contains(&name) && name != first {
                modules.get_mut(&first).expect("a module").insert(name);
            }
        }
        // A module of src/http and the siblings it names: `super::x` from `src/http/me.rs` or
        // `src/http/me/mod.rs`, `super::super::x` from `src/http/me/part.rs`.
        let sibling = match parts.as_slice() {
            [_, file] if file != "mod.rs" => Some("super::"),
            [_, _, file] if file == "mod.rs" => Some("super::"),
            [_, _, _] => Some("super::super::"),
            _ => None,
        };
        if first == "http"
            && let Some(sibling) = sibling
        {
            let me = parts[1].trim_end_matches(".rs").to_string();
            let mut named = names_after(&text.replace(sibling, " SIBLING::"), "SIBLING::");
            named.extend(names_after(&text, "crate::http::"));
            for name in named {
                if http_modules.contains(&name) && name != me {
                    http.get_mut(&me).expect("an http module").insert(name);
                }
            }
        }
    }
    (modules, http)
}

/// A cycle in the graph, as the path that closes it (`a -> b -> a`), if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, done, path) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

fn describe(graph: &Graph) -> String {
    graph.iter().map(|(from, to)| format!("  {from} -> {to:?}")).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_library_modules_form_no_cycle() {
    let (modules, _) = graphs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(modules.len() > 5, "the modules were not found:\n{}", describe(&modules));
    if let Some(cycle) = cycle(&modules) {
        panic!("an import cycle between modules: {}\nthe graph:\n{}", cycle.join(" -> "), describe(&modules));
    }
}

#[test]
fn the_http_modules_form_no_cycle() {
    let (_, http) = graphs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(http.contains_key("agent") && http.contains_key("wire"), "the http modules were not found");
    if let Some(cycle) = cycle(&http) {
        panic!("an import cycle in src/http: {}\nthe graph:\n{}", cycle.join(" -> "), describe(&http));
    }
}

#[test]
fn the_service_layer_and_engine_building_know_no_http() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.join("engine_build.rs")];
    rust_files(&src.join("handoff"), &mut files);
    for file in files {
        let text = without_comments(&std::fs::read_to_string(&file).expect("a source file"));
        for http in ["actix", "crate::http", "crate::startup"] {
            assert!(!text.contains(http), "{} uses {http}", file.display());
        }
    }
}

#[test]
fn the_scan_finds_cycles_and_grouped_imports() {
    assert_eq!(names_after("use crate::{a, b::{c, d}, self};", "crate::"), ["a", "b"]);
    assert_eq!(names_after("x = $crate::a + crate::b::c(); my_super::z", "crate::"), ["b"]);
    assert_eq!(names_after("use super::{live, wire::Message};", "super::"), ["live", "wire"]);
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(f, t)| (f.to_string(), BTreeSet::from([t.to_string()])))
        .collect();
    assert_eq!(cycle(&graph).expect("a cycle"), ["a", "b", "c", "a"]);
    let mut acyclic = graph.clone();
    acyclic.insert("c".into(), BTreeSet::new());
    assert_eq!(cycle(&acyclic), None);
}
