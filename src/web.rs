//! The web player's HTTP side: the files of `web/` (embedded by build.rs), compressed once per
//! process (brotli and gzip, chosen from `Accept-Encoding`), with content-hash ETags, and
//! cache headers that change when the assets change.
//!
//! - `/assets/{version}/{path}`: a file of `web/`. `version` is a hash of every asset, so a URL
//!   names one exact content and is cached as `immutable`; a new build gets new URLs. Modules
//!   import each other by relative paths, which keep the version.
//! - Any other `GET` that no route of the server answers: `index.html` (`no-cache`), so client
//!   routes such as `/album/al-3` load the player (SPA fallback). Paths owned by the server
//!   (`/rest/`, `/setup`, `/share/`, `/img/`) and file-like paths are never answered with it.
//!
//! Every answer carries a strict Content-Security-Policy: the player loads nothing from any
//! other host and runs no inline script or style.

use actix_web::http::Method;
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, Header};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::sync::LazyLock;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// The page every client route answers with.
const INDEX: &str = "index.html";
/// Replaced in index.html by `/assets/{version}`.
const ASSET_BASE_PLACEHOLDER: &str = "%ASSET_BASE%";
/// First path segments that belong to the server, never to the player's client routes.
const RESERVED: &[&str] = &["rest", "setup", "share", "img", "assets"];

/// Scripts, styles, images and API calls from this origin only. Audio too, except internet
/// radio: a station streams from its own host (`media-src` http/https), which only plays
/// sound and can run nothing. `blob:` is the player's own silent keep-alive sound.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: https: http:; \
     connect-src 'self'; \
     font-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// One file in its encodings.
struct Asset {
    content_type: &'static str,
    /// Hash of the file's bytes; the ETag of each encoding adds the encoding's name.
    hash: String,
    identity: Vec<u8>,
    gzip: Option<Vec<u8>>,
    brotli: Option<Vec<u8>>,
}

impl Asset {
    fn new(path: &str, bytes: Vec<u8>) -> Asset {
        let content_type = content_type(path);
        let compressible = content_type.starts_with("text/")
            || content_type.contains("javascript")
            || content_type.contains("json")
            || content_type.contains("svg")
            || content_type.contains("manifest");
        let (gzip, brotli) = if compressible {
            // Only kept when smaller: tiny files can grow.
            let smaller = |c: Vec<u8>| (c.len() < bytes.len()).then_some(c);
            (smaller(gzip(&bytes)), smaller(brotli(&bytes)))
        } else {
            (None, None)
        };
        Asset {
            content_type,
            hash: short_hash(&bytes),
            identity: bytes,
            gzip,
            brotli,
        }
    }

    /// The encoding to send for this request, its bytes and its ETag.
    fn negotiate(&self, req: &HttpRequest) -> (Encoding, &[u8], String) {
        let mut supported = vec![Encoding::identity()];
        if self.brotli.is_some() {
            supported.push(Encoding::brotli());
        }
        if self.gzip.is_some() {
            supported.push(Encoding::gzip());
        }
        let chosen = AcceptEncoding::parse(req)
            .ok()
            .and_then(|accept| accept.negotiate(supported.iter()))
            .unwrap_or_else(Encoding::identity);
        match (&chosen, &self.brotli, &self.gzip) {
            (e, Some(br), _) if *e == Encoding::brotli() => {
                (chosen, br, format!("\"{}-br\"", self.hash))
            }
            (e, _, Some(gz)) if *e == Encoding::gzip() => {
                (chosen, gz, format!("\"{}-gz\"", self.hash))
            }
            _ => (
                Encoding::identity(),
                &self.identity,
                format!("\"{}\"", self.hash),
            ),
        }
    }
}

/// Every file of the player, ready to send.
pub struct Assets {
    version: String,
    files: HashMap<String, Asset>,
    index: Option<Asset>,
}

impl Assets {
    /// Prepares `files` (path relative to `web/`, bytes): compresses each once and puts the
    /// asset URL base into index.html.
    pub fn build(files: &[(&str, &[u8])]) -> Assets {
        let mut all = Sha256::new();
        for (path, bytes) in files {
            all.update(path.as_bytes());
            all.update([0]);
            all.update(Sha256::digest(bytes));
        }
        let version = hex::encode(&all.finalize()[..6]);
        let base = format!("/assets/{version}");
        let mut index = None;
        let mut map = HashMap::new();
        for (path, bytes) in files {
            if *path == INDEX {
                let page = String::from_utf8_lossy(bytes).replace(ASSET_BASE_PLACEHOLDER, &base);
                index = Some(Asset::new(path, page.into_bytes()));
            } else {
                map.insert((*path).to_string(), Asset::new(path, bytes.to_vec()));
            }
        }
        Assets {
            version,
            files: map,
            index,
        }
    }

    /// The hash of all assets that their URLs carry.
    pub fn version(&self) -> &str {
        &self.version
    }
}

/// The embedded player, prepared on first use (compression runs once per process).
static EMBEDDED: LazyLock<Assets> = LazyLock::new(|| Assets::build(embedded::FILES));

/// Mounts `/assets/...` and the client-route fallback (as the default service, so it never
/// shadows a route of the server, whatever order routes are registered in).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/assets/{version}/{path:.*}")
            .route(web::get().to(asset))
            .route(web::head().to(asset)),
    )
    .default_service(web::route().to(fallback));
}

async fn asset(req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let (version, path) = path.into_inner();
    let assets = &*EMBEDDED;
    let Some(file) = assets.files.get(&path) else {
        return not_found();
    };
    // An old page may still ask for the previous version: it gets today's file, not cached.
    let cache = if version == assets.version {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    send(&req, file, cache)
}

async fn fallback(req: HttpRequest) -> HttpResponse {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return not_found();
    }
    let path = req.path().trim_start_matches('/');
    let first = path.split('/').next().unwrap_or_default();
    let last = path.rsplit('/').next().unwrap_or_default();
    // A missing file (favicon.ico, a stale script) must not be answered with a page.
    if RESERVED.contains(&first) || last.contains('.') {
        return not_found();
    }
    match &EMBEDDED.index {
        Some(index) => send(&req, index, REVALIDATE),
        None => not_found(),
    }
}

fn send(req: &HttpRequest, file: &Asset, cache: &str) -> HttpResponse {
    let (encoding, body, etag) = file.negotiate(req);
    let unchanged = not_modified(req, &etag);
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::VARY, "Accept-Encoding"));
    security_headers(&mut response);
    if unchanged {
        return response.finish();
    }
    if encoding != Encoding::identity() {
        let coding = if encoding == Encoding::brotli() {
            ContentEncoding::Brotli
        } else {
            ContentEncoding::Gzip
        };
        response.insert_header(coding);
    }
    response.content_type(file.content_type).body(body.to_vec())
}

fn security_headers(response: &mut actix_web::HttpResponseBuilder) {
    response
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for this header).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

fn not_found() -> HttpResponse {
    let mut response = HttpResponse::NotFound();
    security_headers(&mut response);
    response
        .content_type("text/plain; charset=utf-8")
        .body("not found")
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..8])
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        let _ = writer.write_all(bytes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    const FILES: &[(&str, &[u8])] = &[
        (
            "index.html",
            b"<script type=module src=\"%ASSET_BASE%/js/main.js\"></script>",
        ),
        ("js/main.js", b"console.log('a fairly compressible line'); console.log('a fairly compressible line'); console.log('a fairly compressible line');"),
        ("icon.png", b"\x89PNG not really"),
    ];

    #[test]
    fn the_version_follows_the_contents() {
        let a = Assets::build(FILES);
        let mut changed = FILES.to_vec();
        changed[1].1 = b"console.log('b')";
        let b = Assets::build(&changed);
        assert_ne!(a.version(), b.version());
        assert_eq!(a.version(), Assets::build(FILES).version());
        let index = String::from_utf8(a.index.as_ref().unwrap().identity.clone()).unwrap();
        assert!(index.contains(&format!("/assets/{}/js/main.js", a.version())));
    }

    #[test]
    fn encodings_are_chosen_from_accept_encoding() {
        let assets = Assets::build(FILES);
        let js = &assets.files["js/main.js"];
        let pick = |accept: Option<&str>| {
            let mut req = TestRequest::get();
            if let Some(a) = accept {
                req = req.insert_header((header::ACCEPT_ENCODING, a));
            }
            let (enc, bytes, etag) = js.negotiate(&req.to_http_request());
            (enc.to_string(), bytes.len(), etag)
        };
        let (enc, len, etag) = pick(Some("gzip, deflate, br"));
        assert_eq!(enc, "br");
        assert!(len < js.identity.len());
        assert!(etag.ends_with("-br\""));
        assert_eq!(pick(Some("gzip")).0, "gzip");
        assert_eq!(pick(None).0, "identity");
        assert_eq!(pick(Some("br;q=0, gzip;q=0")).0, "identity");
        // Images are not compressed again.
        assert!(assets.files["icon.png"].brotli.is_none());
    }

    #[test]
    fn if_none_match_is_compared_weakly() {
        let req = TestRequest::get()
            .insert_header((header::IF_NONE_MATCH, "W/\"abc-br\", \"x\""))
            .to_http_request();
        assert!(not_modified(&req, "\"abc-br\""));
        assert!(!not_modified(&req, "\"abc\""));
    }
}
