//! The module walls of the design notes, checked on the source text (a cheap grep that fails
//! a test, not a review): the read side and people's things never call into the scanner,
//! handlers never touch `db::schema`, and the HTTP byte-serving and share-page code knows no
//! Subsonic.

use std::path::Path;

/// Every `.rs` file under `dir` (relative to the crate root) with its text.
fn sources(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
    assert!(!out.is_empty(), "no sources under {dir}");
    out
}

fn assert_none(dir: &str, forbidden: &[&str]) {
    for (path, text) in sources(dir) {
        for needle in forbidden {
            assert!(!text.contains(needle), "{path} uses {needle}");
        }
    }
}

#[test]
fn the_read_side_never_calls_into_the_scanner() {
    assert_none("src/library", &["crate::scanner"]);
    assert_none("src/people", &["crate::scanner"]);
}

#[test]
fn handlers_never_touch_the_schema() {
    assert_none("src/subsonic", &["schema::", "schema::{"]);
}

#[test]
fn byte_serving_and_the_share_page_know_no_subsonic() {
    assert_none("src/delivery", &["crate::subsonic", "ApiError"]);
    assert_none("src/share_page.rs", &["crate::subsonic", "ApiError"]);
}

/// The `src/subsonic` modules each module refers to (`super::x`, `crate::subsonic::x`, grouped
/// `use super::{x, y::Z}`), comment lines left out. Files under `src/subsonic/<m>/` belong to
/// module `m`, where `super::` is `m` itself and `super::super::x` is a sibling.
fn subsonic_imports() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/subsonic");
    let mut modules = std::collections::BTreeMap::new();
    for (path, text) in sources("src/subsonic") {
        let relative = Path::new(&path).strip_prefix(&root).unwrap().to_path_buf();
        let mut parts = relative.iter().map(|p| p.to_string_lossy().into_owned());
        let first = parts.next().unwrap();
        let nested = parts.next().is_some();
        let module = first.trim_end_matches(".rs").to_string();
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let prefixes: &[&str] = if nested {
            &["super::super::", "crate::subsonic::"]
        } else {
            &["super::", "crate::subsonic::"]
        };
        let names: &mut std::collections::BTreeSet<String> =
            modules.entry(module.clone()).or_default();
        for prefix in prefixes {
            for (at, _) in code.match_indices(prefix) {
                let rest = &code[at + prefix.len()..];
                if nested && *prefix == "super::" {
                    continue;
                }
                if rest.starts_with("super::") {
                    continue;
                }
                if let Some(group) = rest.strip_prefix('{') {
                    let mut depth = 0;
                    let mut item = String::new();
                    for c in group.chars() {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => break,
                            '}' => depth -= 1,
                            ',' if depth == 0 => {
                                names.insert(first_segment(&item));
                                item.clear();
                                continue;
                            }
                            _ => {}
                        }
                        item.push(c);
                    }
                    names.insert(first_segment(&item));
                } else {
                    names.insert(first_segment(rest));
                }
            }
        }
    }
    let known: std::collections::BTreeSet<String> = modules.keys().cloned().collect();
    for (module, names) in modules.iter_mut() {
        names.retain(|n| known.contains(n) && n != module && n != "mod");
    }
    modules.remove("mod");
    modules
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The handler modules: those `subsonic/registry.rs` takes its methods from.
fn handler_modules() -> Vec<String> {
    let registry = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/subsonic/registry.rs"),
    )
    .unwrap();
    let group = registry.split("use super::{").nth(1).unwrap();
    let group = &group[..group.find('}').unwrap()];
    let handlers: Vec<String> = group
        .split(',')
        .map(first_segment)
        .filter(|h| !h.is_empty())
        .collect();
    assert!(handlers.len() > 10, "{handlers:?}");
    handlers
}

#[test]
fn handler_files_never_import_each_other() {
    let imports = subsonic_imports();
    let handlers = handler_modules();
    let mut crossings = Vec::new();
    for h in &handlers {
        for other in &imports[h] {
            if handlers.contains(other) {
                crossings.push(format!("{h} -> {other}"));
            }
        }
    }
    assert!(
        crossings.is_empty(),
        "handler files import handler files: {crossings:?}"
    );
}

#[test]
fn subsonic_modules_import_no_cycle() {
    let imports = subsonic_imports();
    // Depth-first search for a back edge, with the path that closes the cycle.
    fn visit(
        m: &str,
        imports: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in &imports[m] {
            if let Some(cycle) = visit(next, imports, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for m in imports.keys() {
        let cycle = visit(m, &imports, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "import cycle: {}",
            cycle.unwrap().join(" -> ")
        );
    }
}

#[test]
fn the_import_scan_sees_grouped_and_inline_paths() {
    let imports = subsonic_imports();
    // registry.rs imports its handlers in one group; auth.rs names error by path.
    assert!(imports["registry"].contains("annotation"));
    assert!(imports["registry"].contains("users"));
    assert!(imports["auth"].contains("error"));
}

#[test]
fn podcasts_know_no_subsonic() {
    assert_none("src/podcasts", &["crate::subsonic", "ApiError"]);
}
