//! Serving a file from disk over HTTP the way players and download managers expect: ranges
//! (206/416), HEAD, strong ETag and Last-Modified with the conditional headers (304/412), an
//! exact Content-Length, and a body read in chunks from the open file handle on the blocking
//! pool, so no file is ever held in memory and no async thread waits on the disk. A chunk is
//! read only when the body is asked for it: a client that stops reading holds no thread.

use super::conditional::{self, Decision, Validators};
use super::limits::BlockingIo;
use super::range::{self, RangeRequest};
use actix_web::body::SizedStream;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    HeaderValue,
};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use futures_util::Stream;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Bytes read from the file per body chunk: large enough that the blocking-pool round trip
/// is negligible, small enough that thousands of concurrent streams stay cheap.
const CHUNK: u64 = 128 * 1024;

/// Why a file could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The file is gone (or is no longer a regular file).
    #[error("file not found: {}", .0.display())]
    Missing(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// What the response says about the file besides its bytes.
#[derive(Debug, Clone)]
pub struct FileInfo<'a> {
    /// The Content-Type, e.g. "audio/flac".
    pub content_type: &'a str,
    /// Folded into the ETag, so two ids serving the same bytes never share one.
    pub identity: u64,
    /// The file name offered by `Content-Disposition: attachment`, when downloading.
    pub download_name: Option<&'a str>,
}

/// Answers `req` with the file at `path`: 200, 206, 304, 412 or 416 as the request's Range and
/// conditional headers decide, headers only for HEAD.
pub async fn serve_file(
    req: &HttpRequest,
    path: &Path,
    info: FileInfo<'_>,
    io: &BlockingIo,
) -> Result<HttpResponse, ServeError> {
    let (file, len, validators) = open(path.to_path_buf(), info.identity).await?;
    let mut builder = HttpResponse::Ok();
    builder
        .insert_header((header::ETAG, validators.etag.to_string()))
        .insert_header((header::LAST_MODIFIED, validators.last_modified))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    let honour_range = match conditional::evaluate(req, &validators) {
        Decision::NotModified => return Ok(builder.status(StatusCode::NOT_MODIFIED).finish()),
        Decision::PreconditionFailed => {
            return Ok(builder.status(StatusCode::PRECONDITION_FAILED).finish());
        }
        Decision::Send { honour_range } => honour_range,
    };
    builder
        .insert_header((header::CONTENT_TYPE, info.content_type))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if let Some(name) = info.download_name {
        builder.insert_header((header::CONTENT_DISPOSITION, attachment(name)));
    }
    let (start, count) = match select_range(req, &mut builder, len, honour_range) {
        Ok(span) => span,
        Err(unsatisfiable) => return Ok(*unsatisfiable),
    };
    Ok(with_body(
        builder,
        req.method() == Method::HEAD,
        file,
        start,
        count,
        io.clone(),
    ))
}

/// Opens the file and reads its metadata, off the async threads.
async fn open(path: PathBuf, identity: u64) -> Result<(File, u64, Validators), ServeError> {
    actix_web::rt::task::spawn_blocking(move || {
        let io_error = |source| ServeError::Io {
            path: path.clone(),
            source,
        };
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if is_missing(&e) => return Err(ServeError::Missing(path)),
            Err(e) => return Err(io_error(e)),
        };
        let meta = file.metadata().map_err(io_error)?;
        if !meta.is_file() {
            return Err(ServeError::Missing(path));
        }
        let modified = meta.modified().map_err(io_error)?;
        Ok((
            file,
            meta.len(),
            Validators::new(meta.len(), modified, identity),
        ))
    })
    .await
    .map_err(|e| ServeError::Io {
        path: PathBuf::new(),
        source: io::Error::other(e),
    })?
}

/// Applies the request's Range header (when the conditional headers let it count) to
/// `builder` for a body of `len` bytes: the span to send as (start, count), with 206 and
/// Content-Range set for a partial one, or the finished 416 answer.
pub fn select_range(
    req: &HttpRequest,
    builder: &mut HttpResponseBuilder,
    len: u64,
    honour_range: bool,
) -> Result<(u64, u64), Box<HttpResponse>> {
    let requested = match req.headers().get(header::RANGE) {
        Some(value) if honour_range => value
            .to_str()
            .map_or(RangeRequest::Full, |v| range::parse(v, len)),
        _ => RangeRequest::Full,
    };
    match requested {
        RangeRequest::Full => Ok((0, len)),
        RangeRequest::Partial(r) => {
            builder
                .status(StatusCode::PARTIAL_CONTENT)
                .insert_header((header::CONTENT_RANGE, r.content_range(len)));
            Ok((r.start, r.len()))
        }
        RangeRequest::Unsatisfiable => Err(Box::new(
            builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .insert_header((header::CONTENT_RANGE, range::unsatisfied_content_range(len)))
                .finish(),
        )),
    }
}

/// Whether an error opening a file means it is not there (any more).
pub fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Sets the body: `count` bytes of `file` from `start` (nothing is read for HEAD, but the
/// Content-Length is the one GET would send).
fn with_body(
    mut builder: HttpResponseBuilder,
    head: bool,
    file: File,
    start: u64,
    count: u64,
    io: BlockingIo,
) -> HttpResponse {
    if head {
        let nothing = futures_util::stream::empty::<Result<Bytes, io::Error>>();
        return builder.body(SizedStream::new(count, nothing));
    }
    builder.body(SizedStream::new(count, read_chunks(file, start, count, io)))
}

/// The bytes `start..start+count` of `file` as a stream of chunks, each read through `io` when
/// the body asks for it. A file that shrank meanwhile ends the stream with an error (the connection is then
/// closed short of its Content-Length, so the client knows).
pub fn read_chunks(
    file: File,
    start: u64,
    count: u64,
    io: BlockingIo,
) -> impl Stream<Item = Result<Bytes, io::Error>> + 'static {
    futures_util::stream::try_unfold(
        (file, start, count, io),
        |(mut file, pos, remaining, io)| async move {
            if remaining == 0 {
                return Ok(None);
            }
            let (file, chunk) = io
                .run(move || {
                    let want = remaining.min(CHUNK);
                    let mut buf = Vec::with_capacity(want as usize);
                    file.seek(SeekFrom::Start(pos))?;
                    (&mut file).take(want).read_to_end(&mut buf)?;
                    if buf.is_empty() {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the file shrank while it was being sent",
                        ));
                    }
                    Ok((file, Bytes::from(buf)))
                })
                .await?;
            let n = chunk.len() as u64;
            Ok(Some((chunk, (file, pos + n, remaining - n, io))))
        },
    )
}

/// `Content-Disposition: attachment` offering `name`: `filename*` in UTF-8 (RFC 6266) for
/// every client that reads it, and an ASCII `filename` for the ones that do not.
pub fn attachment(name: &str) -> ContentDisposition {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '_'
            }
        })
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// The header value of [`attachment`], for responses built by hand.
pub fn attachment_value(name: &str) -> HeaderValue {
    use actix_web::http::header::TryIntoHeaderValue;
    attachment(name)
        .try_into_value()
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;
    use actix_web::test::TestRequest;
    use std::io::Write;

    /// A file of `len` bytes where byte i is i mod 251 (a prime, so chunks never align).
    fn sample(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&data).unwrap();
        (f, data)
    }

    const INFO: FileInfo<'static> = FileInfo {
        content_type: "audio/flac",
        identity: 9,
        download_name: None,
    };

    async fn serve(req: TestRequest, path: &Path) -> (StatusCode, header::HeaderMap, Vec<u8>) {
        let res = serve_file(&req.to_http_request(), path, INFO, &BlockingIo::new(2))
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        (status, headers, body.to_vec())
    }

    fn get(headers: &[(&str, &str)]) -> TestRequest {
        headers
            .iter()
            .fold(TestRequest::get(), |r, (k, v)| r.insert_header((*k, *v)))
    }

    #[actix_web::test]
    async fn whole_file_in_several_chunks() {
        let (f, data) = sample(3 * CHUNK as usize + 17);
        let (status, headers, body) = serve(get(&[]), f.path()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, data);
        assert_eq!(headers.get("content-type").unwrap(), "audio/flac");
        assert_eq!(headers.get("accept-ranges").unwrap(), "bytes");
        assert!(
            headers
                .get("etag")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with('"')
        );
        assert!(headers.contains_key("last-modified"));
        assert!(!headers.contains_key("content-disposition"));
    }

    #[actix_web::test]
    async fn a_range_across_chunk_boundaries() {
        let (f, data) = sample(3 * CHUNK as usize);
        let (start, end) = (CHUNK as usize - 5, 2 * CHUNK as usize + 5);
        let (status, headers, body) =
            serve(get(&[("Range", &format!("bytes={start}-{end}"))]), f.path()).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(body, &data[start..=end]);
        assert_eq!(
            headers.get("content-range").unwrap().to_str().unwrap(),
            format!("bytes {start}-{end}/{}", data.len())
        );
    }

    #[actix_web::test]
    async fn head_sends_no_body_and_the_get_length() {
        let (f, _) = sample(1000);
        let res = serve_file(
            &TestRequest::default()
                .method(Method::HEAD)
                .insert_header(("Range", "bytes=10-19"))
                .to_http_request(),
            f.path(),
            INFO,
            &BlockingIo::new(2),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            res.body().size(),
            actix_web::body::BodySize::Sized(10),
            "Content-Length of the range"
        );
        let body = actix_web::body::to_bytes(res.into_body()).await;
        assert!(
            body.is_ok_and(|b| b.is_empty()),
            "a HEAD body yields nothing"
        );
    }

    #[actix_web::test]
    async fn unsatisfiable_and_not_modified() {
        let (f, _) = sample(1000);
        let (status, headers, body) = serve(get(&[("Range", "bytes=1000-")]), f.path()).await;
        assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(headers.get("content-range").unwrap(), "bytes */1000");
        assert!(body.is_empty());
        let (_, headers, _) = serve(get(&[]), f.path()).await;
        let etag = headers.get("etag").unwrap().to_str().unwrap().to_string();
        let (status, headers, body) = serve(get(&[("If-None-Match", &etag)]), f.path()).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        assert_eq!(headers.get("etag").unwrap().to_str().unwrap(), etag);
        assert!(body.is_empty());
    }

    #[actix_web::test]
    async fn a_file_that_shrinks_mid_stream_ends_in_an_error() {
        let (f, _) = sample(3 * CHUNK as usize);
        let res = serve_file(
            &TestRequest::get().to_http_request(),
            f.path(),
            INFO,
            &BlockingIo::new(2),
        )
        .await
        .unwrap();
        f.as_file().set_len(CHUNK).unwrap();
        assert!(actix_web::body::to_bytes(res.into_body()).await.is_err());
    }

    #[actix_web::test]
    async fn missing_files_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        for path in [dir.path().join("gone.mp3"), dir.path().to_path_buf()] {
            let r = serve_file(
                &TestRequest::get().to_http_request(),
                &path,
                INFO,
                &BlockingIo::new(2),
            )
            .await;
            assert!(matches!(r, Err(ServeError::Missing(p)) if p == path));
        }
    }

    #[test]
    fn attachment_names() {
        assert_eq!(
            attachment_value("Björk – Jóga \"live\".flac"),
            "attachment; filename=\"Bj_rk _ J_ga \\\"live\\\".flac\"; \
             filename*=UTF-8''Bj%C3%B6rk%20%E2%80%93%20J%C3%B3ga%20%22live%22.flac"
        );
        assert_eq!(
            attachment_value("plain.mp3"),
            "attachment; filename=\"plain.mp3\"; filename*=UTF-8''plain.mp3"
        );
    }
}
