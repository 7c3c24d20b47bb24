//! The podcast methods: getPodcasts, getNewestPodcasts, getPodcastEpisode (everyone);
//! refreshPodcasts, createPodcastChannel, deletePodcastChannel, deletePodcastEpisode,
//! downloadPodcastEpisode (the podcast role). Reads and writes go through `podcasts::store`;
//! fetching and downloading is the `Podcasts` service's (its threads), so these calls only
//! queue work and answer at once. Episode bookmarks, streams and scrobbles are answered by the
//! bookmark, media and scrobble methods.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{NewestPodcasts, PodcastChannel, PodcastEpisode, Podcasts};
use super::response::{Element, ToElement};
use crate::db::{self, models::Role};
use crate::library::Id;
use crate::podcasts::http::checked_url;
use crate::podcasts::store::{self, StoreError};

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadySubscribed => ApiError::Refused(e.to_string()),
            StoreError::ChannelNotFound => ApiError::NotFound("Podcast channel"),
            StoreError::EpisodeNotFound => ApiError::NotFound("Podcast episode"),
            StoreError::Db(e) => e.into(),
        }
    }
}

/// The `id` parameter as a channel id ("pc-N"); anything else names no channel.
fn channel_param(ctx: &Ctx) -> Result<i32, ApiError> {
    match Id::parse(ctx.params.required("id")?.trim()) {
        Some(Id::PodcastChannel(n)) => Ok(n),
        _ => Err(ApiError::NotFound("Podcast channel")),
    }
}

/// The `id` parameter as an episode id ("pe-N").
fn episode_param(ctx: &Ctx) -> Result<i32, ApiError> {
    match Id::parse(ctx.params.required("id")?.trim()) {
        Some(Id::PodcastEpisode(n)) => Ok(n),
        _ => Err(ApiError::NotFound("Podcast episode")),
    }
}

/// getPodcasts: every channel (or the one `id` names), with its episodes newest first unless
/// `includeEpisodes=false`.
pub async fn get_podcasts(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let with_episodes = ctx.params.boolean("includeEpisodes")?.unwrap_or(true);
    let only = match ctx.params.get("id").map(str::trim) {
        Some(id) if !id.is_empty() => Some(channel_param(&ctx)?),
        _ => None,
    };
    let (channels, episodes) = ctx
        .db(move |c| {
            let channels = match only {
                Some(id) => {
                    vec![store::channel(c, id)?.ok_or(ApiError::NotFound("Podcast channel"))?]
                }
                None => store::channels(c)?,
            };
            let ids: Vec<i32> = channels.iter().map(|ch| ch.id).collect();
            let episodes = if with_episodes {
                store::episodes_of(c, &ids)?
            } else {
                Vec::new()
            };
            Ok((channels, episodes))
        })
        .await?;
    let list = channels
        .iter()
        .map(|ch| {
            let own = episodes
                .iter()
                .filter(|e| e.channel_id == ch.id)
                .map(|e| PodcastEpisode::of(e, ch))
                .collect();
            PodcastChannel::of(ch, own)
        })
        .collect();
    Ok(Some(Podcasts(list).into_element("podcasts")))
}

/// getNewestPodcasts: the `count` (default 20) most recently published episodes.
pub async fn get_newest_podcasts(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let count = ctx.params.number::<i64>("count")?.unwrap_or(20);
    if count < 0 {
        return Err(ApiError::BadParam("count"));
    }
    let count = count.min(500);
    let rows = ctx.db(move |c| Ok(store::newest(c, count)?)).await?;
    let list = rows
        .iter()
        .map(|(e, ch)| PodcastEpisode::of(e, ch))
        .collect();
    Ok(Some(NewestPodcasts(list).into_element("newestPodcasts")))
}

/// getPodcastEpisode (OpenSubsonic): one episode.
pub async fn get_podcast_episode(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let id = episode_param(&ctx)?;
    let (episode, channel) = ctx
        .db(move |c| Ok(store::episode(c, id)?))
        .await?
        .ok_or(ApiError::NotFound("Podcast episode"))?;
    Ok(Some(
        PodcastEpisode::of(&episode, &channel).into_element("podcastEpisode"),
    ))
}

/// refreshPodcasts: every channel's feed is fetched again (in the background).
pub async fn refresh_podcasts(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Podcast)?;
    ctx.state.podcasts.refresh(None);
    Ok(None)
}

/// createPodcastChannel: subscribes to the feed at `url` and fetches it (in the background;
/// a feed that cannot be read leaves the channel with status error and a message).
pub async fn create_podcast_channel(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Podcast)?;
    let url = checked_url(ctx.params.required("url")?)
        .map_err(|_| ApiError::BadParam("url"))?
        .to_string();
    let now = db::now_ms();
    let channel = ctx
        .write(move |c| Ok(store::create_channel(c, &url, now)?))
        .await?;
    ctx.state.podcasts.refresh(Some(channel.id));
    Ok(None)
}

/// deletePodcastChannel: unsubscribes; the channel's downloaded files are removed.
pub async fn delete_podcast_channel(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Podcast)?;
    let id = channel_param(&ctx)?;
    ctx.write(move |c| Ok(store::delete_channel(c, id)?))
        .await?;
    let podcasts = ctx.state.podcasts.clone();
    actix_web::web::block(move || podcasts.remove_channel_files(id)).await?;
    Ok(None)
}

/// deletePodcastEpisode: the episode's file is removed and it is marked deleted (a refresh
/// does not bring it back; downloadPodcastEpisode does).
pub async fn delete_podcast_episode(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Podcast)?;
    let id = episode_param(&ctx)?;
    let file = ctx.write(move |c| Ok(store::mark_deleted(c, id)?)).await?;
    if let Some(file) = file {
        let podcasts = ctx.state.podcasts.clone();
        actix_web::web::block(move || podcasts.remove_file(&file)).await?;
    }
    Ok(None)
}

/// downloadPodcastEpisode: queues the episode's download (resuming a partial one).
pub async fn download_podcast_episode(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Podcast)?;
    let id = episode_param(&ctx)?;
    let queue = ctx
        .write(move |c| Ok(store::mark_downloading(c, id)?))
        .await?;
    if queue {
        ctx.state.podcasts.download(id);
    }
    Ok(None)
}
