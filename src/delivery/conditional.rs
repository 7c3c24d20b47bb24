//! Validators of a file (strong ETag, Last-Modified) and the conditional request headers that
//! test them (RFC 9110 §13): If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since
//! and If-Range, evaluated in the RFC's order.

use actix_web::HttpRequest;
use actix_web::http::Method;
use actix_web::http::header::{
    self, EntityTag, Header, HttpDate, IfMatch, IfModifiedSince, IfNoneMatch, IfRange,
    IfUnmodifiedSince,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What identifies one version of a file for caches and resumed downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// Strong: changes whenever the size, the modification time (to the nanosecond) or the
    /// identity changes.
    pub etag: EntityTag,
    /// The modification time, to the second (HTTP dates have no finer unit).
    pub last_modified: HttpDate,
}

impl Validators {
    /// Validators for a file of `size` bytes modified at `modified`; `identity` tells apart
    /// files that could share both (the same bytes served under two ids).
    pub fn new(size: u64, modified: SystemTime, identity: u64) -> Self {
        let since_epoch = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            etag: EntityTag::new_strong(format!(
                "{size:x}-{:x}-{identity:x}",
                since_epoch.as_nanos()
            )),
            last_modified: HttpDate::from(UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs())),
        }
    }
}

/// The outcome of the conditional headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send the file; `honour_range` is false when If-Range says the client's copy is stale
    /// (so the Range header must be ignored and the whole file sent).
    Send { honour_range: bool },
    /// 304 Not Modified (GET and HEAD).
    NotModified,
    /// 412 Precondition Failed.
    PreconditionFailed,
}

/// Evaluates the request's conditional headers against the file's validators.
pub fn evaluate(req: &HttpRequest, v: &Validators) -> Decision {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    let has = |name| req.headers().contains_key(name);
    // 1-2: the client's copy must (still) be this version. (actix parses an absent list
    // header as an empty list, hence the presence checks.)
    if has(header::IF_MATCH) {
        let matches = match IfMatch::parse(req) {
            Ok(IfMatch::Any) => true,
            Ok(IfMatch::Items(tags)) => tags.iter().any(|t| t.strong_eq(&v.etag)),
            Err(_) => false,
        };
        if !matches {
            return Decision::PreconditionFailed;
        }
    } else if let Ok(IfUnmodifiedSince(date)) = IfUnmodifiedSince::parse(req)
        && v.last_modified > date
    {
        return Decision::PreconditionFailed;
    }
    // 3-4: the client already has this version.
    if has(header::IF_NONE_MATCH) {
        let unchanged = match IfNoneMatch::parse(req) {
            Ok(IfNoneMatch::Any) => true,
            Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&v.etag)),
            Err(_) => false,
        };
        match (unchanged, safe) {
            (true, true) => return Decision::NotModified,
            (true, false) => return Decision::PreconditionFailed,
            (false, _) => {}
        }
    } else if safe
        && let Ok(IfModifiedSince(date)) = IfModifiedSince::parse(req)
        && v.last_modified <= date
    {
        return Decision::NotModified;
    }
    // 5: a range of the client's copy only makes sense if that copy is this version.
    let honour_range = !has(header::IF_RANGE)
        || match IfRange::parse(req) {
            // A weak tag never matches (If-Range needs the strong comparison).
            Ok(IfRange::EntityTag(tag)) => tag.strong_eq(&v.etag),
            Ok(IfRange::Date(date)) => date == v.last_modified,
            Err(_) => false,
        };
    Decision::Send { honour_range }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    const MODIFIED_SECS: u64 = 1_700_000_000;

    fn validators() -> Validators {
        Validators::new(
            1234,
            UNIX_EPOCH + Duration::new(MODIFIED_SECS, 500_000_000),
            7,
        )
    }

    fn date(secs: u64) -> String {
        HttpDate::from(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
    }

    fn decide(method: Method, headers: &[(&str, &str)]) -> Decision {
        let mut req = TestRequest::default().method(method);
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        evaluate(&req.to_http_request(), &validators())
    }

    fn get(headers: &[(&str, &str)]) -> Decision {
        decide(Method::GET, headers)
    }

    const SEND: Decision = Decision::Send { honour_range: true };

    #[test]
    fn the_etag_is_strong_and_covers_size_time_and_identity() {
        let v = validators();
        assert!(!v.etag.weak);
        assert_eq!(
            v.etag.tag(),
            format!("4d2-{:x}-7", 1_700_000_000_500_000_000u128)
        );
        let t = UNIX_EPOCH + Duration::new(MODIFIED_SECS, 500_000_000);
        assert_ne!(v.etag, Validators::new(1235, t, 7).etag);
        assert_ne!(v.etag, Validators::new(1234, t, 8).etag);
        assert_ne!(
            v.etag,
            Validators::new(1234, t + Duration::from_nanos(1), 7).etag
        );
        assert_eq!(v.last_modified.to_string(), date(MODIFIED_SECS));
    }

    #[test]
    fn no_conditions_send_the_file() {
        assert_eq!(get(&[]), SEND);
    }

    #[test]
    fn if_none_match() {
        let tag = validators().etag.to_string();
        assert_eq!(get(&[("If-None-Match", &tag)]), Decision::NotModified);
        assert_eq!(
            get(&[("If-None-Match", &format!("\"other\", {tag}"))]),
            Decision::NotModified
        );
        assert_eq!(
            get(&[("If-None-Match", &format!("W/{tag}"))]),
            Decision::NotModified,
            "weak comparison"
        );
        assert_eq!(get(&[("If-None-Match", "*")]), Decision::NotModified);
        assert_eq!(get(&[("If-None-Match", "\"other\"")]), SEND);
        assert_eq!(
            decide(Method::HEAD, &[("If-None-Match", &tag)]),
            Decision::NotModified
        );
        assert_eq!(
            decide(Method::POST, &[("If-None-Match", &tag)]),
            Decision::PreconditionFailed
        );
    }

    #[test]
    fn if_modified_since() {
        assert_eq!(
            get(&[("If-Modified-Since", &date(MODIFIED_SECS))]),
            Decision::NotModified,
            "same second"
        );
        assert_eq!(
            get(&[("If-Modified-Since", &date(MODIFIED_SECS + 60))]),
            Decision::NotModified
        );
        assert_eq!(
            get(&[("If-Modified-Since", &date(MODIFIED_SECS - 1))]),
            SEND
        );
        assert_eq!(get(&[("If-Modified-Since", "yesterday")]), SEND);
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            get(&[
                ("If-None-Match", "\"other\""),
                ("If-Modified-Since", &date(MODIFIED_SECS + 60))
            ]),
            SEND
        );
    }

    #[test]
    fn if_match_and_if_unmodified_since() {
        let tag = validators().etag.to_string();
        assert_eq!(get(&[("If-Match", &tag)]), SEND);
        assert_eq!(get(&[("If-Match", "*")]), SEND);
        assert_eq!(
            get(&[("If-Match", "\"other\"")]),
            Decision::PreconditionFailed
        );
        assert_eq!(
            get(&[("If-Match", &format!("W/{tag}"))]),
            Decision::PreconditionFailed,
            "strong comparison"
        );
        assert_eq!(
            get(&[("If-Unmodified-Since", &date(MODIFIED_SECS - 1))]),
            Decision::PreconditionFailed
        );
        assert_eq!(get(&[("If-Unmodified-Since", &date(MODIFIED_SECS))]), SEND);
    }

    #[test]
    fn if_range() {
        let tag = validators().etag.to_string();
        let stale = Decision::Send {
            honour_range: false,
        };
        assert_eq!(get(&[("If-Range", &tag)]), SEND);
        assert_eq!(get(&[("If-Range", "\"other\"")]), stale);
        assert_eq!(get(&[("If-Range", &format!("W/{tag}"))]), stale, "weak");
        assert_eq!(get(&[("If-Range", &date(MODIFIED_SECS))]), SEND);
        assert_eq!(get(&[("If-Range", &date(MODIFIED_SECS + 1))]), stale);
        assert_eq!(get(&[("If-Range", "garbage")]), stale);
    }
}
