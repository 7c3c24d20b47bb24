//! Podcast wire types: `PodcastChannel`, `PodcastEpisode` (a `Child` with the episode's own
//! attributes), `Podcasts`, `NewestPodcasts`, built from the podcast store's rows.

use super::{Annotations, Child, iso_time};
use crate::library::Id;
use crate::podcasts::store::{Channel, Episode, Status};
use crate::subsonic::response::{Element, ToElement};

/// `PodcastEpisode`: a `Child` (`type="podcast"`, the channel as album and artist) plus
/// `streamId` (once downloaded), `channelId`, `description`, `status`, `publishDate`, and
/// ours: `errorMessage`, why an episode is `error` or `skipped` (the channel's attribute of
/// that name, which the schema gives only channels).
#[derive(Debug, Clone, PartialEq)]
pub struct PodcastEpisode {
    pub child: Child,
    pub stream_id: Option<String>,
    pub channel_id: String,
    pub description: Option<String>,
    pub status: &'static str,
    /// Epoch milliseconds.
    pub publish_date: Option<i64>,
    pub error_message: Option<String>,
}

impl PodcastEpisode {
    pub fn of(e: &Episode, channel: &Channel) -> Self {
        let id = Id::PodcastEpisode(e.id).to_string();
        let channel_id = Id::PodcastChannel(channel.id).to_string();
        let completed = e.status() == Status::Completed;
        let channel_title = channel.title.clone().unwrap_or_else(|| channel.url.clone());
        let duration = e
            .duration_ms
            .map(|ms| ms / 1000)
            .or(e.feed_duration_secs.map(i64::from));
        let year = e
            .published_at
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| chrono::Datelike::year(&d));
        let child = Child {
            id: id.clone(),
            parent: Some(channel_id.clone()),
            is_dir: false,
            title: e.title.clone(),
            album: Some(channel_title.clone()),
            artist: Some(channel_title),
            year,
            genre: Some("Podcast".into()),
            cover_art: channel.image_path.as_ref().map(|_| channel_id.clone()),
            size: if completed {
                e.total_bytes
            } else {
                e.enclosure_length
            },
            content_type: e.content_type.clone().or(e.enclosure_type.clone()),
            suffix: e.suffix.clone(),
            duration,
            bit_rate: e.bitrate,
            created: Some(e.created_at),
            sampling_rate: e.sample_rate,
            notes: Annotations {
                play_count: Some(i64::from(e.play_count)),
                played: e.played_at,
                ..Default::default()
            },
            ..Default::default()
        };
        PodcastEpisode {
            child,
            stream_id: completed.then_some(id),
            channel_id,
            description: e.description.clone(),
            status: e.status().as_str(),
            publish_date: e.published_at,
            error_message: e.error_message.clone(),
        }
    }
}

impl ToElement for PodcastEpisode {
    fn into_element(self, name: &'static str) -> Element {
        self.child
            .into_element(name)
            .attr("type", "podcast")
            .attr_opt("streamId", self.stream_id)
            .attr("channelId", self.channel_id)
            .attr_opt("description", self.description)
            .attr("status", self.status)
            .attr_opt("publishDate", self.publish_date.map(iso_time))
            .attr_opt("errorMessage", self.error_message)
    }
}

/// `PodcastChannel`, with its episodes when they were asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct PodcastChannel {
    pub id: i32,
    pub url: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub cover_art: Option<String>,
    pub original_image_url: Option<String>,
    pub status: &'static str,
    pub error_message: Option<String>,
    pub episodes: Vec<PodcastEpisode>,
}

impl PodcastChannel {
    pub fn of(c: &Channel, episodes: Vec<PodcastEpisode>) -> Self {
        PodcastChannel {
            id: c.id,
            url: c.url.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            cover_art: c
                .image_path
                .as_ref()
                .map(|_| Id::PodcastChannel(c.id).to_string()),
            original_image_url: c.image_url.clone(),
            status: Status::parse(&c.status).as_str(),
            error_message: c.error_message.clone(),
            episodes,
        }
    }
}

impl ToElement for PodcastChannel {
    fn into_element(self, name: &'static str) -> Element {
        let el = Element::new(name)
            .attr("id", Id::PodcastChannel(self.id).to_string())
            .attr("url", self.url)
            .attr_opt("title", self.title)
            .attr_opt("description", self.description)
            .attr_opt("coverArt", self.cover_art)
            .attr_opt("originalImageUrl", self.original_image_url)
            .attr("status", self.status)
            .attr_opt("errorMessage", self.error_message);
        if self.episodes.is_empty() {
            el
        } else {
            el.items("episode", self.episodes)
        }
    }
}

/// `Podcasts`.
#[derive(Debug, Clone, PartialEq)]
pub struct Podcasts(pub Vec<PodcastChannel>);

impl ToElement for Podcasts {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name).items("channel", self.0)
    }
}

/// `NewestPodcasts`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewestPodcasts(pub Vec<PodcastEpisode>);

impl ToElement for NewestPodcasts {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name).items("episode", self.0)
    }
}
