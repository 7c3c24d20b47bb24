//! Hostile and careless clients against the real server over HTTP, with its log captured: the
//! sign-in throttle (per address and user, per address, parallel guesses, forwarding headers
//! only from trusted proxies), first-run setup from elsewhere than this machine, log lines a
//! client cannot forge or bloat, and a second server on the same database.

mod common;

use common::api::{free_port, put, song};
use mediastreamer::synth::Format;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server of our own (its log in a file) on a one-song library.
struct Instance {
    child: Child,
    port: u16,
    config: PathBuf,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mediastreamer"));
    cmd.env_remove("MEDIASTREAMER_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove(mediastreamer::setup::ADMIN_PASSWORD_ENV);
    cmd
}

/// Starts a server with `extra` TOML (under `[server]`), listening on `host`; with users
/// `admin` (adminpw, administrator) and `bob` (bobpw) unless `fresh`.
fn launch(host: &str, server_extra: &str, fresh: bool) -> Instance {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    put(
        &music,
        "A/One/01.mp3",
        Format::Mp3,
        song("One", "A", "One", "A", 1),
    );
    let port = free_port();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\naddress = \"{host}:{port}\"\n{server_extra}\n[library]\nfolders = [{music:?}]\n\
             [database]\npath = {:?}\n[scan]\nschedule = \"\"\nwatch = false\n",
            dir.path().join("catalog.db")
        ),
    )
    .unwrap();
    if !fresh {
        for args in [
            &["user", "add", "admin", "--password", "adminpw", "--admin"][..],
            &["user", "add", "bob", "--password", "bobpw"][..],
        ] {
            let out = bin()
                .arg("--config")
                .arg(&config)
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let log = dir.path().join("server.log");
    let child = spawn(&config, &log, None);
    let instance = Instance {
        child,
        port,
        config,
        log,
        dir,
    };
    wait_until("the server answers", || {
        send(port, "GET", "/setup", &[], "").is_ok_and(|r| r.0 == 200)
    });
    instance
}

fn spawn(config: &Path, log: &Path, address: Option<&str>) -> Child {
    let mut cmd = bin();
    cmd.arg("--config").arg(config);
    if let Some(a) = address {
        cmd.args(["--address", a]);
    }
    cmd.arg("serve")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what}: timed out"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Instance {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A JSON ping as `query` (credentials); whether it succeeded, and how long it took.
    fn ping(&self, query: &str, headers: &[(&str, &str)]) -> (bool, Duration) {
        let started = Instant::now();
        let (_, _, body) = send(
            self.port,
            "GET",
            &format!("/rest/ping?{query}&f=json"),
            headers,
            "",
        )
        .unwrap();
        (body.contains(r#""status":"ok""#), started.elapsed())
    }
}

/// One HTTP/1.1 request; `Host: localhost` unless `headers` name another.
fn send(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String, String)> {
    send_to(
        ("127.0.0.1", port),
        method,
        path,
        headers,
        body,
        Duration::from_secs(30),
    )
}

fn send_to(
    to: impl std::net::ToSocketAddrs,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> std::io::Result<(u16, String, String)> {
    let mut stream = TcpStream::connect(to)?;
    stream.set_read_timeout(Some(timeout))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str("Host: localhost\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(req.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, head.to_string(), body.to_string()))
}

// ---------------------------------------------------------------- the sign-in throttle

#[test]
fn the_right_password_after_failures_is_answered_at_once() {
    let s = launch("127.0.0.1", "", false);
    // Seven failures, each answer waited for: the last ones are held for a growing delay.
    let mut last = Duration::ZERO;
    for n in 0..7 {
        let (ok, took) = s.ping(&format!("u=bob&p=wrong{n}"), &[]);
        assert!(!ok);
        last = took;
    }
    assert!(last >= Duration::from_millis(700), "{last:?}");
    // The right password is not delayed (it was 1.6 s here before).
    let (ok, took) = s.ping("u=bob&p=bobpw", &[]);
    assert!(ok);
    assert!(took < Duration::from_millis(700), "{took:?}");
    // And then the account's failures are forgotten: a typo costs nothing.
    let (ok, took) = s.ping("u=bob&p=typo", &[]);
    assert!(!ok);
    assert!(took < Duration::from_millis(700), "{took:?}");
}

#[test]
fn another_accounts_success_does_not_reset_the_address_count() {
    let s = launch("127.0.0.1", "", false);
    // Spraying user names from one address: fourteen failures, no user twice.
    for n in 0..14 {
        assert!(!s.ping(&format!("u=nobody{n}&p=x"), &[]).0);
    }
    // Someone else at this address signs in at once...
    let (ok, took) = s.ping("u=admin&p=adminpw", &[]);
    assert!(ok);
    assert!(took < Duration::from_millis(700), "{took:?}");
    // ...and that does not wipe the address's count: the next guess is still slow.
    let (ok, took) = s.ping("u=nobody99&p=x", &[]);
    assert!(!ok);
    assert!(took >= Duration::from_millis(1000), "{took:?}");
}

#[test]
fn parallel_guesses_are_checked_one_after_another() {
    let s = launch("127.0.0.1", "", false);
    let port = s.port;
    let started = Instant::now();
    let window = Duration::from_millis(2500);
    let guesses: Vec<_> = (0..30)
        .map(|n| {
            std::thread::spawn(move || {
                // Whatever has not been answered within the window has not been checked yet.
                let r = send_to(
                    ("127.0.0.1", port),
                    "GET",
                    &format!("/rest/ping?u=admin&p=guess{n}&f=json"),
                    &[],
                    "",
                    window,
                );
                r.ok()
                    .filter(|(status, _, _)| *status == 200)
                    .map(|(_, _, body)| {
                        assert!(body.contains("\"code\":40"), "{body}");
                        started.elapsed()
                    })
            })
        })
        .collect();
    let answered: Vec<Duration> = guesses
        .into_iter()
        .filter_map(|g| g.join().unwrap())
        .filter(|t| *t <= window)
        .collect();
    let rate = answered.len() as f64 / window.as_secs_f64();
    eprintln!(
        "{} of 30 parallel guesses answered in {window:?}: {rate:.1} guesses/s",
        answered.len()
    );
    // Three free, then 100, 200, 400, 800 ms apart: about six (before: all 30).
    assert!(answered.len() <= 8, "{} answered", answered.len());
    // Another user at this address still signs in.
    assert!(s.ping("u=bob&p=bobpw", &[]).0);
}

#[test]
fn forwarding_headers_count_only_from_trusted_proxies() {
    // Not trusted: the header is ignored; every guess counts against 127.0.0.1.
    let plain = launch("127.0.0.1", "", false);
    for n in 0..14 {
        let ip = format!("198.51.100.{n}");
        let (ok, _) = plain.ping(&format!("u=x{n}&p=x"), &[("X-Forwarded-For", &ip)]);
        assert!(!ok);
    }
    let (_, took) = plain.ping("u=y&p=x", &[("X-Forwarded-For", "198.51.100.200")]);
    assert!(took >= Duration::from_millis(1000), "{took:?}");
    let log = plain.log();
    assert!(log.contains("client=127.0.0.1"), "{log}");
    assert!(!log.contains("198.51.100."), "{log}");

    // Trusted: each forwarded address has its own count, and is what the log shows.
    let proxied = launch("127.0.0.1", "trusted_proxies = [\"127.0.0.0/8\"]", false);
    for n in 0..14 {
        let ip = format!("198.51.100.{n}");
        let (ok, _) = proxied.ping(&format!("u=x{n}&p=x"), &[("X-Forwarded-For", &ip)]);
        assert!(!ok);
    }
    let (_, took) = proxied.ping("u=y&p=x", &[("X-Forwarded-For", "198.51.100.200")]);
    assert!(took < Duration::from_millis(700), "{took:?}");
    // A client cannot pick its address by prepending one; Forwarded works too.
    proxied.ping("u=z&p=x", &[("X-Forwarded-For", "10.9.9.9, 203.0.113.5")]);
    proxied.ping("u=z&p=x", &[("Forwarded", "for=\"[2001:db8::5]:1234\"")]);
    let log = proxied.log();
    for shown in [
        "client=198.51.100.3",
        "client=203.0.113.5",
        "client=2001:db8::5",
    ] {
        assert!(log.contains(shown), "{shown}: {log}");
    }
    assert!(!log.contains("10.9.9.9"), "{log}");
}

// ---------------------------------------------------------------- logs

#[test]
fn client_text_in_the_log_is_cut_and_cannot_forge_lines() {
    let s = launch("127.0.0.1", "", false);
    let huge = "n".repeat(300_000);
    let body = format!("u=%0AERROR%20forged%20line{huge}&p=x&f=json");
    let (status, _, answer) = send(
        s.port,
        "POST",
        "/rest/ping",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &body,
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(answer.contains("\"code\":40"), "{answer}");
    // The client name of the access log too.
    s.ping("u=bob&p=bobpw&c=app%0AERROR%20forged%20client", &[]);
    wait_until("the access log line", || s.log().contains("forged client"));
    let log = s.log();
    assert!(log.len() < 20_000, "the log grew by {} bytes", log.len());
    assert!(
        !log.lines().any(|l| l.starts_with("ERROR forged")),
        "a forged line: {log}"
    );
    let line = log.lines().find(|l| l.contains("failed sign-in")).unwrap();
    assert!(line.contains(r"\nERROR forged line"), "{line}");
    assert!(line.len() < 300, "{line}");
    assert!(
        log.lines()
            .any(|l| l.contains("access") && l.contains(r"app\\nERROR forged client")),
        "{log}"
    );
}

// ---------------------------------------------------------------- first-run setup

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn setup_token(s: &Instance) -> String {
    wait_until("the setup link in the log", || {
        s.log().contains("setup?token=")
    });
    let log = s.log();
    let start = log.find("setup?token=").unwrap() + "setup?token=".len();
    log[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// This machine's address on a network, when it has one (a connection from it is not
/// loopback).
fn lan_address() -> Option<std::net::IpAddr> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    probe.connect("192.0.2.1:9").ok()?;
    let ip = probe.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn setup_from_elsewhere_needs_the_one_time_token_from_the_log() {
    let s = launch("0.0.0.0", "", true);
    let token = setup_token(&s);
    assert_eq!(token.len(), 32, "{}", s.log());
    let claim = r#"{"username":"mallory","password":"pw"}"#;
    // DNS rebinding: the attacker's page is on its own name, which resolves to us.
    let rebinding = [
        JSON,
        ("Host", "evil.example:4533"),
        ("Origin", "http://evil.example:4533"),
    ];
    assert_eq!(
        send(s.port, "POST", "/setup", &rebinding, claim).unwrap().0,
        403
    );
    // Through a proxy this server was not told to trust.
    let proxied = [JSON, ("X-Forwarded-For", "203.0.113.5")];
    assert_eq!(
        send(s.port, "POST", "/setup", &proxied, claim).unwrap().0,
        403
    );
    // From another machine, without an Origin header at all.
    if let Some(lan) = lan_address() {
        let r = send_to(
            (lan, s.port),
            "POST",
            "/setup",
            &[JSON, ("Host", &format!("{lan}:{}", s.port))],
            claim,
            Duration::from_secs(20),
        )
        .unwrap();
        assert_eq!(r.0, 403, "{}", r.2);
        assert!(r.2.contains("setup link"), "{}", r.2);
    }
    // A wrong token does not help.
    let wrong =
        r#"{"username":"mallory","password":"pw","token":"00000000000000000000000000000000"}"#;
    assert_eq!(
        send(s.port, "POST", "/setup", &rebinding, wrong).unwrap().0,
        403
    );
    assert!(
        send(s.port, "GET", "/setup", &[], "")
            .unwrap()
            .2
            .contains("true")
    );

    // The link from the log opens a form that carries the token...
    let (status, head, page) =
        send(s.port, "GET", &format!("/setup?token={token}"), &[], "").unwrap();
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html"),
        "{head}"
    );
    assert!(
        page.contains(&format!("name=\"token\" value=\"{token}\"")),
        "{page}"
    );
    let (status, _, _) = send(s.port, "GET", "/setup?token=0123", &[], "").unwrap();
    assert_eq!(status, 403);
    // ...which a browser elsewhere posts: the administrator is created, the browser goes on
    // to the web player.
    let form = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Host", "music.lan:4533"),
        ("Origin", "http://music.lan:4533"),
        ("Accept", "text/html,application/xhtml+xml"),
    ];
    let (status, head, _) = send(
        s.port,
        "POST",
        "/setup",
        &form,
        &format!("username=owner&password=s3cret&token={token}"),
    )
    .unwrap();
    assert_eq!(status, 303, "{head}");
    assert!(
        head.contains("location: /") || head.contains("Location: /"),
        "{head}"
    );
    assert!(s.ping("u=owner&p=s3cret", &[]).0);
    // The token worked once: the same link is refused now (not just "already set up").
    let again = format!(r#"{{"username":"second","password":"pw","token":"{token}"}}"#);
    assert_eq!(
        send(s.port, "POST", "/setup", &rebinding, &again)
            .unwrap()
            .0,
        403
    );
    assert_eq!(
        send(s.port, "GET", &format!("/setup?token={token}"), &[], "")
            .unwrap()
            .0,
        403
    );
    assert!(!s.ping("u=second&p=pw", &[]).0);
}

#[test]
fn setup_from_this_machine_needs_no_token() {
    let s = launch("127.0.0.1", "", true);
    let token = setup_token(&s);
    let claim = r#"{"username":"owner","password":"pw"}"#;
    // The token is not in the answer of the unauthenticated status call.
    let (_, _, status_body) = send(s.port, "GET", "/setup", &[], "").unwrap();
    assert!(!status_body.contains(&token));
    let local = [JSON, ("Host", &format!("localhost:{}", s.port) as &str)];
    let (status, _, body) = send(s.port, "POST", "/setup", &local, claim).unwrap();
    assert_eq!(status, 201, "{body}");
    assert!(s.ping("u=owner&p=pw", &[]).0);
    // The token is dropped with the setup: it cannot be used afterwards.
    let (status, _, _) = send(s.port, "GET", &format!("/setup?token={token}"), &[], "").unwrap();
    assert_eq!(status, 403);
    let (status, _, _) = send(s.port, "POST", "/setup", &local, claim).unwrap();
    assert_eq!(status, 409);
}

// ---------------------------------------------------------------- one server per database

#[test]
fn a_second_server_on_the_same_database_refuses_to_start() {
    let first = launch("127.0.0.1", "", false);
    assert!(first.ping("u=admin&p=adminpw", &[]).0);
    let log = first.dir.path().join("second.log");
    let second_port = free_port();
    let mut second = spawn(
        &first.config,
        &log,
        Some(&format!("127.0.0.1:{second_port}")),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = second.kill();
            panic!("the second server kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let err = std::fs::read_to_string(&log).unwrap();
    assert!(err.contains("in use by another running server"), "{err}");
    assert!(err.contains("catalog.db"), "{err}");
    assert!(TcpStream::connect(("127.0.0.1", second_port)).is_err());
    // The first one goes on; the command line still works beside it.
    assert!(first.ping("u=admin&p=adminpw", &[]).0);
    let out = bin()
        .arg("--config")
        .arg(&first.config)
        .args(["user", "add", "carl", "--password", "carlpw"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(first.ping("u=carl&p=carlpw", &[]).0);
    // Its database files are the owner's only.
    use std::os::unix::fs::PermissionsExt;
    for name in [
        "catalog.db",
        "catalog.db-wal",
        "catalog.db-shm",
        "catalog.db.lock",
    ] {
        let path = first.dir.path().join(name);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}
