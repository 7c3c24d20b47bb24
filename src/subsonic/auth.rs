//! Authentication. `Ctx` is what every authenticated handler takes, and the only way to get
//! one is `authenticate`: a handler that forgets authentication does not compile.
//!
//! Mechanisms: `u`+`p` (clear or `enc:HEX`), `u`+`t`+`s` (t = md5(password + salt)). Repeated
//! failures from one address are slowed down with a growing delay, but never locked out: the
//! right password still works after the delay.

use super::error::ApiError;
use super::params::Params;
use super::response::Format;
use crate::db::models::User;
use crate::state::AppState;
use crate::users;
use actix_web::{HttpRequest, web};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An authenticated call: the user, the parameters and the response format.
pub struct Ctx {
    pub user: User,
    pub params: Params,
    pub format: Format,
    pub state: web::Data<AppState>,
    /// The HTTP request (headers such as Range and If-None-Match, the peer address).
    pub request: HttpRequest,
    _sealed: Sealed,
}

/// Only `authenticate` can make a `Ctx`.
struct Sealed;

impl Ctx {
    /// Runs blocking database work off the async threads.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut diesel::SqliteConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.state.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }

    /// Requires `role` (error 50 otherwise).
    pub fn require_role(&self, role: crate::db::models::Role) -> Result<(), ApiError> {
        if self.user.has_role(role) {
            Ok(())
        } else {
            Err(ApiError::NotAuthorized)
        }
    }

    /// Requires the admin flag (error 50 otherwise).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.is_admin {
            Ok(())
        } else {
            Err(ApiError::NotAuthorized)
        }
    }
}

/// Failed sign-ins per client address, for the growing delay.
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// Failures are forgotten after this long without another one.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
const MAX_DELAY: Duration = Duration::from_secs(5);

impl LoginThrottle {
    fn delay_for(&self, ip: IpAddr) -> Duration {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&ip) {
            Some((n, last)) if last.elapsed() < FORGET_AFTER && *n > 2 => {
                (Duration::from_millis(100) * 2u32.saturating_pow(n - 3)).min(MAX_DELAY)
            }
            _ => Duration::ZERO,
        }
    }

    fn failed(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, last)| last.elapsed() < FORGET_AFTER);
        }
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FORGET_AFTER {
            entry.0 = 0;
        }
        entry.0 += 1;
        entry.1 = Instant::now();
    }

    fn succeeded(&self, ip: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&ip);
    }
}

/// Checks the credentials in `params` and returns the call's context.
pub async fn authenticate(
    state: web::Data<AppState>,
    params: Params,
    format: Format,
    request: HttpRequest,
) -> Result<Ctx, ApiError> {
    let client_ip = request.peer_addr().map(|a| a.ip());
    let has = |k: &str| params.get(k).is_some();
    if let Some(api_key) = params.get("apiKey").map(str::to_string) {
        if has("u") || has("p") || has("t") || has("s") {
            return Err(ApiError::ConflictingAuth);
        }
        let pool = state.pool.clone();
        let user = web::block(move || -> Result<Option<User>, ApiError> {
            let mut conn = pool.get()?;
            users::find_by_api_key(&mut conn, &api_key)
                .map_err(|e| ApiError::Internal(e.to_string()))
        })
        .await??;
        return match user {
            Some(user) => {
                state.metrics.user_seen(user.id);
                Ok(Ctx {
                    user,
                    params,
                    format,
                    state,
                    request,
                    _sealed: Sealed,
                })
            }
            None => {
                tracing::warn!(client = ?client_ip, "invalid API key");
                Err(ApiError::InvalidApiKey)
            }
        };
    }
    let name = params.required("u")?.to_string();
    if has("p") && (has("t") || has("s")) {
        return Err(ApiError::ConflictingAuth);
    }
    enum Proof {
        Password(String),
        Token { token: String, salt: String },
    }
    let proof = if let (Some(t), Some(s)) = (params.get("t"), params.get("s")) {
        Proof::Token {
            token: t.to_ascii_lowercase(),
            salt: s.to_string(),
        }
    } else if let Some(p) = params.get("p") {
        Proof::Password(decode_password(p).ok_or(ApiError::WrongCredentials)?)
    } else if has("t") {
        return Err(ApiError::MissingParam("s"));
    } else {
        return Err(ApiError::MissingParam("p"));
    };

    if let Some(ip) = client_ip {
        let delay = state.login_throttle.delay_for(ip);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
    let pool = state.pool.clone();
    let key = state.password_key.clone();
    let lookup = name.clone();
    let found = web::block(move || -> Result<Option<(User, String)>, ApiError> {
        let mut conn = pool.get()?;
        let Some(user) =
            users::find(&mut conn, &lookup).map_err(|e| ApiError::Internal(e.to_string()))?
        else {
            return Ok(None);
        };
        let password =
            users::password_of(&key, &user).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(Some((user, password)))
    })
    .await??;
    let ok = match (&found, &proof) {
        (Some((_, password)), Proof::Password(given)) => {
            constant_time_eq(password.as_bytes(), given.as_bytes())
        }
        (Some((_, password)), Proof::Token { token, salt }) => {
            let expected = format!("{:x}", md5::compute(format!("{password}{salt}")));
            constant_time_eq(expected.as_bytes(), token.as_bytes())
        }
        (None, _) => false,
    };
    match (ok, found) {
        (true, Some((user, _))) => {
            if let Some(ip) = client_ip {
                state.login_throttle.succeeded(ip);
            }
            state.metrics.user_seen(user.id);
            Ok(Ctx {
                user,
                params,
                format,
                state,
                request,
                _sealed: Sealed,
            })
        }
        _ => {
            if let Some(ip) = client_ip {
                state.login_throttle.failed(ip);
            }
            tracing::warn!(user = %name, client = ?client_ip, "failed sign-in");
            Err(ApiError::WrongCredentials)
        }
    }
}

/// `p` is the password in clear, or `enc:` followed by the hex of its UTF-8 bytes.
fn decode_password(p: &str) -> Option<String> {
    match p.strip_prefix("enc:") {
        Some(hex) => String::from_utf8(hex::decode(hex).ok()?).ok(),
        None => Some(p.to_string()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enc_passwords_decode() {
        assert_eq!(
            decode_password("enc:736563726574").as_deref(),
            Some("secret")
        );
        assert_eq!(decode_password("plain").as_deref(), Some("plain"));
        assert_eq!(decode_password("enc:zz"), None);
    }

    #[test]
    fn the_delay_grows_and_resets() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            t.failed(ip);
        }
        let first = t.delay_for(ip);
        t.failed(ip);
        assert!(t.delay_for(ip) > first);
        t.succeeded(ip);
        assert_eq!(t.delay_for(ip), Duration::ZERO);
    }
}
