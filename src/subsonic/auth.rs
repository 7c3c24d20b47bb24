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
use crate::library::access::Viewer;
use crate::state::AppState;
use crate::users;
use actix_web::{HttpRequest, web};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An authenticated call: the user, the parameters and the response format.
pub struct Ctx {
    pub user: User,
    /// The user as catalog operations see them (folder scope resolved once, at sign-in).
    pub viewer: Viewer,
    pub params: Params,
    pub format: Format,
    pub state: web::Data<AppState>,
    /// The HTTP request (headers such as Range and If-None-Match, the peer address).
    pub request: HttpRequest,
    _sealed: Sealed,
}

/// A user who proved who they are, and the viewer they are.
type SignedIn = (User, Viewer);

/// Only `authenticate` can make a `Ctx`.
struct Sealed;

impl Ctx {
    /// The context of a user who has just proved who they are (counted as active).
    fn signed_in(
        (user, viewer): (User, Viewer),
        params: Params,
        format: Format,
        state: web::Data<AppState>,
        request: HttpRequest,
    ) -> Ctx {
        state.metrics.user_seen(user.id);
        Ctx {
            user,
            viewer,
            params,
            format,
            state,
            request,
            _sealed: Sealed,
        }
    }

    /// Runs catalog reads off the async threads, in one read transaction (one snapshot).
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut diesel::SqliteConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let catalog = self.state.catalog.clone();
        web::block(move || catalog.read(work)).await?
    }

    /// Runs catalog writes (and the reads they depend on) off the async threads, in one
    /// immediate transaction.
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut diesel::SqliteConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let catalog = self.state.catalog.clone();
        web::block(move || catalog.write(work)).await?
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

/// The sign-in throttle. Failed sign-ins are counted per (address, user name) and per
/// address; each count, past a few free failures, spaces the next check out with a growing
/// delay, and the failed answer itself is held until then. So:
/// - the right password is answered at once (a person who mistyped and waited for the answer
///   is not slowed down; nor are others behind the same NAT who signed in before);
/// - guesses sent in parallel are checked one after another (an attempt takes its key's turn
///   when it starts), so parallel connections buy an attacker nothing;
/// - another account's success does not wipe the address's count (a spray of user names from
///   one address stays slow); an (address, user) pair that signed in recently skips the
///   address's queue, so an attacker spraying names does not slow down known users there.
///
/// Addresses come from `client_addr` (forwarding headers only from trusted proxies); IPv6
/// addresses count per /64, which is what one subscriber usually gets.
#[derive(Default)]
pub struct LoginThrottle {
    slots: Mutex<HashMap<ThrottleKey, Arc<tokio::sync::Mutex<Slot>>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ThrottleKey {
    Address(IpAddr),
    Account(IpAddr, String),
}

/// One key's history.
#[derive(Debug)]
struct Slot {
    failures: u32,
    last_failure: Option<Instant>,
    /// The next check of this key waits until then.
    next_check: Instant,
    /// The last successful sign-in (account keys only).
    last_success: Option<Instant>,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            failures: 0,
            last_failure: None,
            next_check: Instant::now(),
            last_success: None,
        }
    }
}

/// Failures are forgotten after this long without another one.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// A pair that signed in within this long skips its address's queue.
const KNOWN_FOR: Duration = Duration::from_secs(24 * 3600);
const MAX_DELAY: Duration = Duration::from_secs(5);
/// Failures without delay: per (address, user), per address (many people share a NAT).
const FREE_PER_ACCOUNT: u32 = 2;
const FREE_PER_ADDRESS: u32 = 10;
/// Above this many keys, stale ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// The delay after `failures` failures when the first `free` cost nothing: 100 ms, doubling.
fn delay_after(failures: u32, free: u32) -> Duration {
    match failures.checked_sub(free + 1) {
        None => Duration::ZERO,
        Some(n) => (Duration::from_millis(100) * 2u32.saturating_pow(n.min(16))).min(MAX_DELAY),
    }
}

/// The address a throttle key uses: IPv6 by /64.
fn throttle_address(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & (u128::MAX << 64)).into()),
        v4 => v4,
    }
}

impl Slot {
    fn record_failure(&mut self, free: u32) {
        let now = Instant::now();
        if self
            .last_failure
            .is_some_and(|t| t.elapsed() >= FORGET_AFTER)
        {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        self.last_failure = Some(now);
        self.next_check = now + delay_after(self.failures, free);
    }

    fn is_stale(&self) -> bool {
        self.next_check <= Instant::now()
            && self
                .last_failure
                .is_none_or(|t| t.elapsed() >= FORGET_AFTER)
            && self.last_success.is_none_or(|t| t.elapsed() >= KNOWN_FOR)
    }
}

/// Sleeps until `at` unless it has passed. A tokio sleep to a past instant still waits for the
/// timer's next tick (up to a millisecond), and the turn is held meanwhile: with every sign-in of
/// one user from one address taking its turn, that capped them at about a thousand a second.
async fn wait_until(at: Instant) {
    if at > Instant::now() {
        tokio::time::sleep_until(at.into()).await;
    }
}

/// A sign-in attempt holding its turn: the account's key, and the address's unless the pair
/// is known. Report the outcome with `succeeded` or `failed`.
pub struct Attempt {
    account: tokio::sync::OwnedMutexGuard<Slot>,
    address: Option<tokio::sync::OwnedMutexGuard<Slot>>,
}

impl LoginThrottle {
    fn slot(&self, key: ThrottleKey) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() > PRUNE_ABOVE && !slots.contains_key(&key) {
            // A key in use is locked or referenced; an idle one with nothing to remember goes.
            slots.retain(|_, slot| {
                Arc::strong_count(slot) > 1 || slot.try_lock().map_or(true, |s| !s.is_stale())
            });
        }
        slots.entry(key).or_default().clone()
    }

    /// Waits for the attempt's turn: no other check of the same key is running and the
    /// delays of earlier failures have passed.
    pub async fn begin(&self, ip: IpAddr, user: &str) -> Attempt {
        let ip = throttle_address(ip);
        // Names longer than any account are cut: they can only fail anyway.
        let name: String = user.chars().take(80).collect::<String>().to_lowercase();
        let account = self.slot(ThrottleKey::Account(ip, name)).lock_owned().await;
        wait_until(account.next_check).await;
        let known = account
            .last_success
            .is_some_and(|t| t.elapsed() < KNOWN_FOR);
        let address = if known {
            None
        } else {
            let address = self.slot(ThrottleKey::Address(ip)).lock_owned().await;
            wait_until(address.next_check).await;
            Some(address)
        };
        Attempt { account, address }
    }
}

impl Attempt {
    /// The right password: the account's failures are forgotten (not the address's).
    pub fn succeeded(mut self) {
        self.account.failures = 0;
        self.account.last_failure = None;
        self.account.next_check = Instant::now();
        self.account.last_success = Some(Instant::now());
    }

    /// A failure: counted on both keys. Returns when its answer may go out (the next check
    /// of either key), after the turn is given up.
    pub fn failed(mut self) -> Instant {
        self.account.record_failure(FREE_PER_ACCOUNT);
        let mut answer_at = self.account.next_check;
        if let Some(address) = self.address.as_mut() {
            address.record_failure(FREE_PER_ADDRESS);
            answer_at = answer_at.max(address.next_check);
        }
        answer_at
    }
}

/// Checks the credentials in `params` and returns the call's context.
pub async fn authenticate(
    state: web::Data<AppState>,
    params: Params,
    format: Format,
    request: HttpRequest,
) -> Result<Ctx, ApiError> {
    let client_ip = crate::client_addr::client_ip(&request, &state.config.server.trusted_proxies);
    let has = |k: &str| params.get(k).is_some();
    if let Some(api_key) = params.get("apiKey").map(str::to_string) {
        if has("u") || has("p") || has("t") || has("s") {
            return Err(ApiError::ConflictingAuth);
        }
        let pool = state.pool.clone();
        let user = web::block(move || -> Result<Option<(User, Viewer)>, ApiError> {
            let mut conn = pool.get()?;
            let Some(user) = users::find_by_api_key(&mut conn, &api_key)
                .map_err(|e| ApiError::Internal(e.to_string()))?
            else {
                return Ok(None);
            };
            let viewer = Viewer::resolve(&mut conn, &user)?;
            Ok(Some((user, viewer)))
        })
        .await??;
        return match user {
            Some(user) => Ok(Ctx::signed_in(user, params, format, state, request)),
            None => {
                tracing::warn!(client = %display_ip(client_ip), "invalid API key");
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

    let pool = state.pool.clone();
    let key = state.password_key.clone();
    let lookup = name.clone();
    // The account is read before the attempt takes its turn: the turn then only covers the
    // comparison (microseconds), so one user's many parallel requests (100 connections of a
    // sync, a busy household behind one address) are not queued behind each other's database
    // reads, while parallel guesses are still compared one after another.
    let found = web::block(move || -> Result<Option<(SignedIn, String)>, ApiError> {
        let mut conn = pool.get()?;
        let Some(user) =
            users::find(&mut conn, &lookup).map_err(|e| ApiError::Internal(e.to_string()))?
        else {
            return Ok(None);
        };
        let password =
            users::password_of(&key, &user).map_err(|e| ApiError::Internal(e.to_string()))?;
        let viewer = Viewer::resolve(&mut conn, &user)?;
        Ok(Some(((user, viewer), password)))
    })
    .await??;
    // A connection without an address (none in practice) shares one key.
    let throttle_ip = client_ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let attempt = state.login_throttle.begin(throttle_ip, &name).await;
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
            attempt.succeeded();
            Ok(Ctx::signed_in(user, params, format, state, request))
        }
        _ => {
            let answer_at = attempt.failed();
            tracing::warn!(
                user = %crate::log_safe::short(&name),
                client = %display_ip(client_ip),
                "failed sign-in"
            );
            tokio::time::sleep_until(answer_at.into()).await;
            Err(ApiError::WrongCredentials)
        }
    }
}

fn display_ip(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "-".to_string(), |ip| ip.to_string())
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
    fn delays_start_after_the_free_failures_and_are_capped() {
        assert_eq!(delay_after(2, 2), Duration::ZERO);
        assert_eq!(delay_after(3, 2), Duration::from_millis(100));
        assert_eq!(delay_after(4, 2), Duration::from_millis(200));
        assert_eq!(delay_after(10, 10), Duration::ZERO);
        assert_eq!(delay_after(u32::MAX, 2), MAX_DELAY);
        assert_eq!(
            throttle_address("2001:db8:1:2:aaaa::1".parse().unwrap()),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
    }

    #[tokio::test]
    async fn a_success_forgets_the_account_but_not_the_address() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for n in 0..FREE_PER_ADDRESS + 2 {
            let answer_at = t.begin(ip, &format!("guess{n}")).await.failed();
            tokio::time::sleep_until(answer_at.into()).await;
        }
        t.begin(ip, "me").await.succeeded();
        let started = Instant::now();
        let answer_at = t.begin(ip, "another").await.failed();
        assert!(answer_at - started >= Duration::from_millis(300));
        // The pair that signed in skips the address's queue, and its right password is
        // answered without waiting even after its own failures.
        for _ in 0..FREE_PER_ACCOUNT + 3 {
            let answer_at = t.begin(ip, "me").await.failed();
            tokio::time::sleep_until(answer_at.into()).await;
        }
        let started = Instant::now();
        t.begin(ip, "ME").await.succeeded();
        assert!(started.elapsed() < Duration::from_millis(50));
    }
}
