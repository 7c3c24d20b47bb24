//! Last.fm: web authentication (the auth URL, `auth.getSession`), `track.scrobble` (up to
//! 50 a request), `track.updateNowPlaying`, `track.love`/`track.unlove`, all signed with the
//! owner's API secret.

use super::Outcome;
use super::listen::TrackInfo;
use crate::config::LastFmConfig;
use serde_json::Value;

/// Most scrobbles one `track.scrobble` takes.
pub const BATCH: usize = 50;

/// Last.fm's `api_sig`: the MD5 (hex) of every parameter but `format` and `callback`, as
/// name and value concatenated in name order, followed by the secret.
pub fn signature(params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<&(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "format" && k != "callback")
        .collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut text = String::new();
    for (k, v) in sorted {
        text.push_str(k);
        text.push_str(v);
    }
    text.push_str(secret);
    format!("{:x}", md5::compute(text.as_bytes()))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page a user is sent to to allow this server to scrobble for them; Last.fm sends the
/// browser back to `callback` with `token` added.
pub fn auth_url(config: &LastFmConfig, callback: &str) -> String {
    format!(
        "{}?api_key={}&cb={}",
        config.auth_url,
        encode(&config.api_key),
        encode(callback)
    )
}

/// The error code and message of a Last.fm answer, if it is an error.
fn error_of(body: &Value) -> Option<(i64, String)> {
    let code = body.get("error")?.as_i64()?;
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_string();
    Some((code, message))
}

/// What an error code means for the link: codes saying the session, token or key is not
/// (or no longer) valid end the retries until the user links again; the rest are retried.
pub fn rejects_link(code: i64) -> bool {
    // 4 authentication failed, 9 invalid session key, 10 invalid API key, 14 unauthorized
    // token, 15 token expired, 26 suspended API key.
    matches!(code, 4 | 9 | 10 | 14 | 15 | 26)
}

/// The Last.fm API of one configured account.
pub struct Client {
    config: LastFmConfig,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(config: LastFmConfig, agent: ureq::Agent) -> Self {
        Self { config, agent }
    }

    pub fn config(&self) -> &LastFmConfig {
        &self.config
    }

    /// Calls `method` with `params` (plus the key, the signature and `format=json`) as a
    /// signed POST; the answer's JSON or what went wrong.
    fn call(&self, method: &str, mut params: Vec<(String, String)>) -> Result<Value, Outcome> {
        params.push(("method".into(), method.into()));
        params.push(("api_key".into(), self.config.api_key.clone()));
        let sig = signature(&params, &self.config.secret);
        params.push(("api_sig".into(), sig));
        params.push(("format".into(), "json".into()));
        let response = self
            .agent
            .post(&self.config.api_url)
            .send_form(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut response = response.map_err(|e| Outcome::Retry(format!("Last.fm: {e}")))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if let Some((code, message)) = error_of(&body) {
            let reason = format!("Last.fm error {code}: {message}");
            return Err(if rejects_link(code) {
                Outcome::Rejected(reason)
            } else {
                Outcome::Retry(reason)
            });
        }
        if !(200..300).contains(&status) {
            return Err(Outcome::Retry(format!("Last.fm: HTTP {status}")));
        }
        Ok(body)
    }

    /// `auth.getSession`: the session key and the account name for a token from the
    /// callback.
    pub fn session(&self, token: &str) -> Result<(String, String), String> {
        let body = self
            .call("auth.getSession", vec![("token".into(), token.into())])
            .map_err(|o| o.reason())?;
        let session = &body["session"];
        match (session["key"].as_str(), session["name"].as_str()) {
            (Some(key), Some(name)) if !key.is_empty() => Ok((key.into(), name.into())),
            _ => Err("Last.fm answered without a session".into()),
        }
    }

    /// `track.scrobble` for up to `BATCH` listens (epoch seconds, track).
    pub fn scrobble(&self, session: &str, listens: &[(i64, &TrackInfo)]) -> Outcome {
        let mut params = vec![("sk".to_string(), session.to_string())];
        for (i, (at, track)) in listens.iter().enumerate() {
            params.extend(track_params(track, Some(i)));
            params.push((format!("timestamp[{i}]"), at.to_string()));
        }
        outcome(self.call("track.scrobble", params))
    }

    pub fn now_playing(&self, session: &str, track: &TrackInfo) -> Outcome {
        let mut params = vec![("sk".to_string(), session.to_string())];
        params.extend(track_params(track, None));
        outcome(self.call("track.updateNowPlaying", params))
    }

    /// `track.love` (or `track.unlove`).
    pub fn love(&self, session: &str, track: &TrackInfo, love: bool) -> Outcome {
        let params = vec![
            ("sk".to_string(), session.to_string()),
            ("artist".to_string(), track.artist.clone()),
            ("track".to_string(), track.title.clone()),
        ];
        let method = if love { "track.love" } else { "track.unlove" };
        outcome(self.call(method, params))
    }
}

fn outcome(result: Result<Value, Outcome>) -> Outcome {
    match result {
        Ok(_) => Outcome::Delivered,
        Err(o) => o,
    }
}

/// A track's parameters, indexed (`artist[3]`) for batches.
fn track_params(track: &TrackInfo, index: Option<usize>) -> Vec<(String, String)> {
    let key = |name: &str| match index {
        Some(i) => format!("{name}[{i}]"),
        None => name.to_string(),
    };
    let mut out = vec![
        (key("artist"), track.artist.clone()),
        (key("track"), track.title.clone()),
    ];
    if !track.album.is_empty() {
        out.push((key("album"), track.album.clone()));
    }
    if let Some(album_artist) = &track.album_artist {
        out.push((key("albumArtist"), album_artist.clone()));
    }
    if let Some(n) = track.track_number {
        out.push((key("trackNumber"), n.to_string()));
    }
    if track.duration_ms > 0 {
        out.push((key("duration"), (track.duration_ms / 1000).to_string()));
    }
    if let Some(id) = &track.recording_mbid {
        out.push((key("mbid"), id.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn signature_is_md5_of_sorted_pairs_and_secret_without_format() {
        let params = vec![
            p("method", "auth.getSession"),
            p("token", "TOKEN"),
            p("api_key", "KEY"),
            p("format", "json"),
            p("callback", "x"),
        ];
        let expected = format!(
            "{:x}",
            md5::compute("api_keyKEYmethodauth.getSessiontokenTOKENSECRET")
        );
        assert_eq!(signature(&params, "SECRET"), expected);
        // Order of the input does not matter; values are used as given (UTF-8).
        let mut reversed = params.clone();
        reversed.reverse();
        assert_eq!(signature(&reversed, "SECRET"), expected);
        assert_ne!(signature(&params, "OTHER"), expected);
    }

    #[test]
    fn indexed_names_sort_by_bytes() {
        let params = vec![p("track[10]", "b"), p("track[1]", "a"), p("track[0]", "c")];
        let expected = format!("{:x}", md5::compute("track[0]ctrack[10]btrack[1]aS"));
        assert_eq!(signature(&params, "S"), expected);
    }

    #[test]
    fn auth_url_carries_key_and_encoded_callback() {
        let config = LastFmConfig {
            api_key: "k y".into(),
            secret: "s".into(),
            ..Default::default()
        };
        assert_eq!(
            auth_url(&config, "http://h:1/cb?state=a&b"),
            "https://www.last.fm/api/auth/?api_key=k%20y&cb=http%3A%2F%2Fh%3A1%2Fcb%3Fstate%3Da%26b"
        );
    }

    #[test]
    fn session_errors_end_retries_and_others_do_not() {
        for code in [4, 9, 10, 14, 15, 26] {
            assert!(rejects_link(code), "{code}");
        }
        for code in [6, 8, 11, 13, 16, 29] {
            assert!(!rejects_link(code), "{code}");
        }
    }

    #[test]
    fn batch_parameters_are_indexed() {
        let t = TrackInfo {
            title: "T".into(),
            artist: "A".into(),
            album: "R".into(),
            duration_ms: 61_500,
            track_number: Some(2),
            ..Default::default()
        };
        let params = track_params(&t, Some(7));
        assert!(params.contains(&p("artist[7]", "A")));
        assert!(params.contains(&p("duration[7]", "61")));
        assert!(params.contains(&p("trackNumber[7]", "2")));
        assert!(!params.iter().any(|(k, _)| k.starts_with("mbid")));
        assert!(track_params(&t, None).contains(&p("track", "T")));
    }
}
