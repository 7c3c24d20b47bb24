//! Our scrobbling methods (OpenSubsonic has none): each user's links to the configured
//! services. getScrobbleServices, linkListenBrainz, getLastFmAuthUrl, updateScrobbleService,
//! unlinkScrobbleService. The queue and the sending are `crate::scrobbling`'s.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{LastFmAuth, ScrobbleService, ScrobbleServices};
use super::response::{Element, ToElement};
use crate::scrobbling::{ServiceKind, store};

/// The caller's view of every configured service.
async fn services(ctx: &Ctx) -> Result<Element, ApiError> {
    let user_id = ctx.user.id;
    let links = ctx.db(move |c| Ok(store::links(c, user_id)?)).await?;
    let list = ctx
        .state
        .scrobbler
        .services()
        .iter()
        .map(|s| {
            let link = links.iter().find(|l| l.service == s.id);
            ScrobbleService {
                id: s.id.clone(),
                name: s.name.clone(),
                kind: s.kind.as_str(),
                linked: link.is_some(),
                account: link.and_then(|l| l.account.clone()),
                love_on_star: (s.kind == ServiceKind::LastFm)
                    .then(|| link.is_some_and(|l| l.love_on_star)),
                pending: link.map_or(0, |l| l.pending),
                broken_reason: link.and_then(|l| l.broken_reason.clone()),
                last_error: link.and_then(|l| l.last_error.clone()),
                linked_at: link.map(|l| l.linked_at),
            }
        })
        .collect();
    Ok(ScrobbleServices(list).into_element("scrobbleServices"))
}

/// The `service` parameter: a configured service's id.
fn service_param(ctx: &Ctx) -> Result<crate::scrobbling::Service, ApiError> {
    let id = ctx.params.required("service")?.trim();
    ctx.state
        .scrobbler
        .service(id)
        .cloned()
        .ok_or(ApiError::NotFound("Scrobbling service"))
}

/// getScrobbleServices: the configured services and the caller's link to each (account,
/// pending count, why a link is broken).
pub async fn get_scrobble_services(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    Ok(Some(services(&ctx).await?))
}

/// linkListenBrainz (`service`, `token`): checks the token with the service, then links it
/// (replacing an earlier link; listens kept while it was broken go out now).
pub async fn link_listenbrainz(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let service = service_param(&ctx)?;
    if service.kind != ServiceKind::ListenBrainz {
        return Err(ApiError::BadParam("service"));
    }
    let token = ctx.params.required("token")?.trim().to_string();
    if token.is_empty() || token.len() > 512 {
        return Err(ApiError::BadParam("token"));
    }
    let state = ctx.state.clone();
    let (id, checked) = (service.id.clone(), token.clone());
    let account =
        actix_web::web::block(move || state.scrobbler.validate_listenbrainz(&id, &checked))
            .await?
            .map_err(|reason| {
                ApiError::Refused(format!(
                    "{} did not accept the token: {reason}",
                    service.name
                ))
            })?;
    let user_id = ctx.user.id;
    let id = service.id.clone();
    ctx.write(move |c| {
        Ok(store::link(
            c,
            user_id,
            &id,
            &token,
            &account,
            crate::db::now_ms(),
        )?)
    })
    .await?;
    ctx.state.scrobbler.wake();
    Ok(Some(services(&ctx).await?))
}

/// getLastFmAuthUrl: the Last.fm page that links the caller's account; Last.fm sends the
/// browser back to our callback, which stores the session.
pub async fn get_last_fm_auth_url(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let base =
        crate::client_addr::public_base(&ctx.request, &ctx.state.config.server.trusted_proxies);
    let url = ctx
        .state
        .scrobbler
        .lastfm_auth_url(ctx.user.id, &base)
        .ok_or_else(|| ApiError::Refused("Last.fm is not configured on this server".into()))?;
    Ok(Some(LastFmAuth { url }.into_element("lastFmAuth")))
}

/// updateScrobbleService (`service`, `loveOnStar`): Last.fm loves the songs the user stars.
pub async fn update_scrobble_service(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let service = service_param(&ctx)?;
    let love = ctx
        .params
        .boolean("loveOnStar")?
        .ok_or(ApiError::MissingParam("loveOnStar"))?;
    if service.kind != ServiceKind::LastFm {
        return Err(ApiError::BadParam("loveOnStar"));
    }
    let user_id = ctx.user.id;
    let found = ctx
        .write(move |c| Ok(store::set_love_on_star(c, user_id, &service.id, love)?))
        .await?;
    if !found {
        return Err(ApiError::NotFound("Scrobbling link"));
    }
    Ok(Some(services(&ctx).await?))
}

/// unlinkScrobbleService (`service`): removes the link and what was still queued for it.
pub async fn unlink_scrobble_service(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let service = service_param(&ctx)?;
    let user_id = ctx.user.id;
    let found = ctx
        .write(move |c| Ok(store::unlink(c, user_id, &service.id)?))
        .await?;
    if !found {
        return Err(ApiError::NotFound("Scrobbling link"));
    }
    Ok(Some(services(&ctx).await?))
}
