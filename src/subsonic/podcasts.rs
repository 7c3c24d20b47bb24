//! Podcasts are not offered by this server: getPodcasts and getNewestPodcasts answer the
//! empty lists the schema allows (clients that call them on every start keep working), and
//! neither the podcast role nor a podcast extension is advertised.

use super::auth::Ctx;
use super::error::ApiError;
use super::response::Element;

/// getPodcasts: no channels. `id` names a channel, and there is none (70); `includeEpisodes`
/// is checked like any boolean.
pub async fn get_podcasts(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.params.boolean("includeEpisodes")?;
    if ctx.params.get("id").is_some_and(|id| !id.trim().is_empty()) {
        return Err(ApiError::NotFound("Podcast channel"));
    }
    Ok(Some(Element::new("podcasts").list("channel", Vec::new())))
}

/// getNewestPodcasts: no episodes (`count` is checked like any number).
pub async fn get_newest_podcasts(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.params.number::<i64>("count")?;
    Ok(Some(
        Element::new("newestPodcasts").list("episode", Vec::new()),
    ))
}
