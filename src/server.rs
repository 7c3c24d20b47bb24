//! `serve`: migrations, the HTTP server (Subsonic API), the start-up scan, the schedule and the
//! watcher, until a signal says stop.

use crate::config::Config;
use crate::error::AppError;
use crate::scanner::{self, ScanHandle, ScanOptions};
use crate::state::AppState;
use crate::subsonic::{self, auth::LoginThrottle};
use crate::{db, users};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpServer, web};
use std::time::Duration;

/// Proof that this process is the one server of its database: an exclusive advisory lock on
/// `<database>.lock`, held until the value is dropped (the OS releases it when the process
/// ends, however it ends). Two servers on one catalog would each clean the other's transcode
/// cache and run their own scans; command-line commands (`user`, `playlist`, `scan`) do not
/// take it and run alongside a server as before (SQLite serialises their writes).
pub struct DatabaseLock {
    _file: std::fs::File,
}

/// Takes the database's server lock, or says which server holds it.
pub fn lock_database(database: &std::path::Path) -> Result<DatabaseLock, AppError> {
    use std::io::{Read, Seek, Write};
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let file_err = |message: String| AppError::File {
        path: path.clone(),
        message,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| file_err(e.to_string()))?;
    }
    let mut file = crate::db::open_lock_file(&path).map_err(|e| file_err(e.to_string()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let pid = if holder.is_empty() {
                String::new()
            } else {
                format!(" (process {holder})")
            };
            return Err(file_err(format!(
                "the database {} is in use by another running server{pid}; stop that server \
                 first, or give this one its own database (database.path)",
                database.display()
            )));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(file_err(e.to_string())),
    }
    // The holder's process id, for the message above (the lock itself is what counts).
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| write!(file, "{}", std::process::id()));
    Ok(DatabaseLock { _file: file })
}

/// The environment variable that makes `serve` also stop when its standard input closes. Test
/// harnesses set it and keep a pipe to the server's stdin: the pipe closes when the test
/// process ends however it ends (panic, SIGKILL), so no server outlives its tests.
pub const STOP_ON_STDIN_EOF_ENV: &str = "MEDIASTREAMER_STOP_ON_STDIN_EOF";

/// Runs the server until SIGINT or SIGTERM (or, with `stop_on_stdin_eof`, until standard input
/// closes). Returns once everything has stopped cleanly.
pub async fn serve(config: Config, stop_on_stdin_eof: bool) -> Result<(), AppError> {
    db::open_and_migrate(&config.database.path)?;
    let password_key = users::PasswordKey::load_or_create(&config.database.path)?;
    // Bind before any work so a taken port stops start-up at once with a clear message.
    let listener =
        std::net::TcpListener::bind(&config.server.address).map_err(|source| AppError::Bind {
            address: config.server.address.clone(),
            source,
        })?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "listening: open {}", browse_url(&local.to_string()));

    let (scans, scan_thread) = ScanHandle::start(config.clone());
    // The watcher starts before the start-up scan so nothing changed in between is missed.
    let watching = if config.scan.watch {
        let folders: Vec<_> = config.music_folders().into_iter().map(|f| f.path).collect();
        scanner::watch::start(
            &folders,
            Duration::from_secs(config.scan.watch_delay_secs),
            scans.clone(),
        )
    } else {
        scanner::watch::Watching {
            watcher: None,
            unwatched: Vec::new(),
        }
    };
    let unwatched_rescans = (!watching.unwatched.is_empty()).then(|| {
        tokio::spawn(scanner::watch::rescan_unwatched(
            watching.unwatched.clone(),
            Duration::from_secs(config.scan.unwatched_rescan_secs),
            scans.clone(),
        ))
    });
    if config.scan.on_startup {
        scans.trigger(ScanOptions::default());
    }
    let scheduler = if config.scan.schedule.trim().is_empty() {
        None
    } else {
        Some(scanner::schedule::start(&config.scan.schedule, scans.clone()).await?)
    };

    // What the transcoder can decode, loudness analysis can measure.
    let ffmpeg =
        crate::transcode::Settings::from_config(&config.transcode, &config.database.path).ffmpeg;
    let (loudness, loudness_thread) =
        crate::loudness::Loudness::start(&config, ffmpeg, scans.clone());
    {
        let loudness = loudness.clone();
        scans.after_each_scan(move || loudness.trigger(false));
    }
    // Resumes what a previous run left (waits for the start-up scan, whose end triggers too).
    loudness.trigger(false);

    let activity = std::sync::Arc::new(crate::memory::Activity::default());
    let trimmer = tokio::spawn(crate::memory::trim_when_idle(activity.clone()));
    let pool = db::pool(&config.database.path, 8)?;
    let podcasts = crate::podcasts::Podcasts::start(&config, pool.clone());
    let podcast_schedule = if config.podcasts.schedule.trim().is_empty() {
        None
    } else {
        Some(crate::podcasts::schedule(&config.podcasts.schedule, podcasts.clone()).await?)
    };
    let scrobbler_pool = pool.clone();
    let state = web::Data::new(AppState {
        activity,
        catalog: crate::library::catalog::Catalog::new(pool.clone()),
        pool,
        config: config.clone(),
        scans: scans.clone(),
        password_key,
        artwork: crate::artwork::Artwork::open(&config)?,
        login_throttle: LoginThrottle::default(),
        setup_token: Default::default(),
        now_playing: Default::default(),
        transcoder: crate::transcode::Transcoder::from_config(&config)?,
        media: crate::delivery::MediaLimits::from_config(&config.limits),
        metrics: Default::default(),
        loudness: loudness.clone(),
        podcasts: podcasts.clone(),
        scrobbler: crate::scrobbling::Scrobbler::start(&config.scrobbling, scrobbler_pool),
    });
    crate::setup::announce(&state, &browse_url(&listener.local_addr()?.to_string()))?;
    let app_state = state.clone();
    let http = HttpServer::new(move || build_app(state.clone()))
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(5)
        .run();
    let http_handle = http.handle();
    let http_task = tokio::spawn(http);

    tokio::select! {
        _ = shutdown_signal() => {}
        _ = stdin_closed(), if stop_on_stdin_eof => tracing::info!("standard input closed"),
    }
    tracing::info!("shutting down");
    http_handle.stop(true).await;
    let _ = http_task.await;
    trimmer.abort();
    drop(watching);
    if let Some(task) = unwatched_rescans {
        task.abort();
    }
    if let Some(mut scheduler) = scheduler
        && let Err(e) = scheduler.shutdown().await
    {
        tracing::warn!("scheduler shutdown: {e}");
    }
    if let Some(mut scheduler) = podcast_schedule
        && let Err(e) = scheduler.shutdown().await
    {
        tracing::warn!("podcast scheduler shutdown: {e}");
    }
    podcasts.shutdown();
    scans.shutdown();
    // The scrobbling workers finish the request each is making (bounded by its timeout).
    let _ = tokio::task::spawn_blocking(move || app_state.scrobbler.shutdown()).await;
    // A running scan stops at its next batch boundary; wait for it off the async threads.
    loudness.shutdown();
    let _ = tokio::task::spawn_blocking(move || scan_thread.join()).await;
    if let Some(thread) = loudness_thread {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The URL a person can open for a listening address: a wildcard address (0.0.0.0, [::])
/// listens on every interface, so the same machine reaches it as localhost.
pub fn browse_url(address: &str) -> String {
    match address.parse::<std::net::SocketAddr>() {
        Ok(a) if a.ip().is_unspecified() => format!("http://localhost:{}/", a.port()),
        Ok(a) => format!("http://{a}/"),
        Err(_) => format!("http://{address}/"),
    }
}

/// Resolves when standard input reaches its end. The reader is a detached thread (not a
/// blocking task, which would hold up the runtime's shutdown while stdin stays open).
async fn stdin_closed() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = tx.send(());
    });
    let _ = rx.await;
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The request path for the access log: a share's token is a secret (whoever has it can
/// listen), so /share/TOKEN/... is logged as /share/…/...
fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/share/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, tail)) => format!("/share/…/{tail}"),
            None => "/share/…".to_string(),
        },
        None => path.to_string(),
    }
}

/// The actix application: the API and the access log. Used by `serve` and by the tests.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let activity = state.activity.clone();
    let metrics = state.clone();
    App::new()
        .app_data(state)
        .configure(crate::ops::health::configure)
        .configure(crate::ops::metrics::configure)
        .configure(subsonic::configure)
        .configure(crate::setup::configure)
        .configure(subsonic::artwork::public_routes)
        .configure(crate::share_page::configure)
        .configure(crate::scrobbling::callback::configure)
        .configure(crate::web::configure)
        .wrap_fn(move |req, srv| {
            activity.record();
            // Method, path, status, duration and client name; never the query string, which
            // carries passwords, tokens and API keys.
            let started = std::time::Instant::now();
            let http_method = req.method().clone();
            let method = req.method().to_string();
            // Both come from the client: cut and escaped (see log_safe).
            let path = crate::log_safe::limited(&loggable_path(req.path()), 256);
            let client = subsonic::params::Params::parse(req.query_string(), None)
                .get("c")
                .map(crate::log_safe::short);
            let fut = srv.call(req);
            let metrics = metrics.clone();
            async move {
                let res = fut.await?;
                metrics
                    .metrics
                    .request(&http_method, res.status().as_u16(), started.elapsed());
                tracing::info!(
                    target: "access",
                    method = %method,
                    path = %path,
                    status = res.status().as_u16(),
                    ms = started.elapsed().as_millis() as u64,
                    client = client.as_deref().unwrap_or("-"),
                );
                Ok(res)
            }
        })
}
