//! Embeds the web player (`web/`) into the binary: writes a table of every file under `web/`
//! (path relative to `web/`, bytes through `include_bytes!`) for `src/web.rs`. Cargo alone
//! builds it; no Node step. Any change under `web/` (also a new or removed file) rebuilds.

use std::path::{Path, PathBuf};

fn main() {
    // Read at run time, not `env!`: a build script binary reused from another checkout (a copied
    // target dir) would otherwise list that checkout's files.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("web");
    println!("cargo:rerun-if-changed=web");
    let mut files = Vec::new();
    if root.is_dir() {
        collect(&root, &mut files);
    }
    files.sort();
    let mut out = String::from("/// Every file of `web/`: (path relative to `web/`, contents).\n");
    out.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .expect("under web/")
            .to_string_lossy()
            .replace('\\', "/");
        // Relative to the crate being compiled, so the generated table never names another
        // checkout's files.
        out.push_str(&format!(
            "    ({rel:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {:?}))),\n",
            format!("/web/{rel}")
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("web_assets.rs");
    std::fs::write(dest, out).expect("write web_assets.rs");
}

/// Every regular file below `dir`, skipping hidden names (editor swap files, .DS_Store).
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, files);
        } else if path.is_file() {
            files.push(path);
        }
    }
}
