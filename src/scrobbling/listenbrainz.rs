//! A server speaking the ListenBrainz API (ListenBrainz, Maloja, Koito...): token validation,
//! listens (`POST /1/submit-listens`), "playing now".

use super::Outcome;
use super::listen::{self, TrackInfo};
use serde_json::Value;

/// Most listens sent in one request (the API takes up to 1,000; smaller batches keep a
/// retried request small).
pub const BATCH: usize = 50;

pub struct Client {
    /// The API's base URL, without a trailing slash.
    base: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str, agent: ureq::Agent) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            agent,
        }
    }

    /// `GET /1/validate-token`: the account's name, or why the token is not accepted.
    pub fn validate(&self, token: &str) -> Result<String, String> {
        let response = self
            .agent
            .get(format!("{}/1/validate-token", self.base))
            .header("Authorization", format!("Token {token}"))
            .call();
        let mut response = response.map_err(|e| format!("the service cannot be reached: {e}"))?;
        let status = response.status().as_u16();
        let body: Value = response
            .body_mut()
            .read_to_string()
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let message = body["message"].as_str().unwrap_or("no message").to_string();
        if status == 401 || (status == 200 && body["valid"] == false) {
            return Err(format!("the token is not valid ({message})"));
        }
        if status != 200 {
            return Err(format!("the service answered HTTP {status} ({message})"));
        }
        Ok(body["user_name"].as_str().unwrap_or_default().to_string())
    }

    fn submit(&self, token: &str, body: &Value) -> Outcome {
        let response = self
            .agent
            .post(format!("{}/1/submit-listens", self.base))
            .header("Authorization", format!("Token {token}"))
            .content_type("application/json")
            .send(body.to_string().as_bytes());
        let mut response = match response {
            Ok(r) => r,
            Err(e) => return Outcome::Retry(format!("ListenBrainz: {e}")),
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Outcome::Delivered;
        }
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| text.chars().take(200).collect());
        let reason = format!("ListenBrainz: HTTP {status}: {message}");
        if status == 401 {
            Outcome::Rejected(reason)
        } else {
            Outcome::Retry(reason)
        }
    }

    /// Listens (epoch seconds, track), at most `BATCH`.
    pub fn listens(&self, token: &str, listens: &[(i64, &TrackInfo)]) -> Outcome {
        self.submit(token, &listen::listenbrainz_listens(listens))
    }

    pub fn now_playing(&self, token: &str, track: &TrackInfo) -> Outcome {
        self.submit(token, &listen::listenbrainz_playing_now(track))
    }
}
