//! Request parameters: the query string merged with a form body (GET and POST alike), with
//! repeated keys kept (id=1&id=2).

use super::error::ApiError;
use super::response::Format;
use std::str::FromStr;

/// All parameters of one call, in order.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// A JSON request body (read only for the methods that take one, see mod.rs).
    json: Option<Vec<u8>>,
}

impl Params {
    /// Parses the query string and, when present, an `application/x-www-form-urlencoded` body.
    pub fn parse(query: &str, form_body: Option<&[u8]>) -> Self {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if let Some(body) = form_body {
            pairs.extend(
                form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())),
            );
        }
        Self { pairs, json: None }
    }

    /// These parameters with a JSON request body.
    pub fn with_json_body(mut self, body: Vec<u8>) -> Self {
        self.json = Some(body);
        self
    }

    /// The JSON request body, when the method takes one and it was sent.
    pub fn json_body(&self) -> Option<&[u8]> {
        self.json.as_deref()
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated `key`.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A parameter that must be present (error 10 otherwise).
    pub fn required(&self, key: &'static str) -> Result<&str, ApiError> {
        self.get(key).ok_or(ApiError::MissingParam(key))
    }

    /// An optional number; a value that is not one is an error, not silently ignored.
    pub fn number<T: FromStr>(&self, key: &'static str) -> Result<Option<T>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ApiError::BadParam(key)),
        }
    }

    /// An optional boolean ("true"/"false", also 1/0).
    pub fn boolean(&self, key: &'static str) -> Result<Option<bool>, ApiError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(_) => Err(ApiError::BadParam(key)),
        }
    }

    /// The response format asked for with `f` (and `callback` for JSONP). An unusable JSONP
    /// callback falls back to JSON so the error can still be read.
    pub fn format(&self) -> Result<Format, (Format, ApiError)> {
        match self.get("f").map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("xml") => Ok(Format::Xml),
            Some("json") => Ok(Format::Json),
            Some("jsonp") => match self.get("callback") {
                Some(cb) if is_js_identifier(cb) => Ok(Format::Jsonp(cb.to_string())),
                Some(_) => Err((Format::Json, ApiError::BadParam("callback"))),
                None => Err((Format::Json, ApiError::MissingParam("callback"))),
            },
            Some(_) => Err((Format::Xml, ApiError::BadParam("f"))),
        }
    }
}

/// A JavaScript identifier path such as `cb` or `jQuery123.handle` — nothing that could inject
/// script into a JSONP response.
fn is_js_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_query_and_body_and_keeps_repeats() {
        let p = Params::parse("id=1&id=2&f=json", Some(b"id=3&u=al%20ice"));
        assert_eq!(p.all("id"), ["1", "2", "3"]);
        assert_eq!(p.get("u"), Some("al ice"));
        assert_eq!(p.format().unwrap(), Format::Json);
    }

    #[test]
    fn numbers_and_callbacks_are_checked() {
        let p = Params::parse("size=abc&count=5", None);
        assert!(matches!(
            p.number::<u32>("size"),
            Err(ApiError::BadParam("size"))
        ));
        assert_eq!(p.number::<u32>("count").unwrap(), Some(5));
        assert!(
            Params::parse("f=jsonp&callback=alert(1)", None)
                .format()
                .is_err()
        );
        assert_eq!(
            Params::parse("f=jsonp&callback=jQuery1.cb", None)
                .format()
                .unwrap(),
            Format::Jsonp("jQuery1.cb".into())
        );
    }
}
