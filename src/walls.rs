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
