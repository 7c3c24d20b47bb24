//! What is sent about a played track: its metadata as the catalog knows it, taken when it
//! was played and stored with the queued listen, and the ListenBrainz JSON built from it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A track's metadata for scrobbling (stored as JSON in `scrobble_queue.track`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrackInfo {
    pub title: String,
    pub artist: String,
    #[serde(default)]
    pub album: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album_artist: Option<String>,
    #[serde(default)]
    pub duration_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_number: Option<i32>,
    /// MusicBrainz recording id (the "track" of Last.fm's `mbid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_mbid: Option<String>,
    /// MusicBrainz track id (the recording's place on a release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_mbid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_mbid: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artist_mbids: Vec<String>,
    /// The client that played it (the `c` parameter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// What this server calls itself as the submitting program.
pub const SUBMISSION_CLIENT: &str = "MediaStreamer";

/// A MusicBrainz id as tags carry it: trimmed, and only when it looks like a UUID.
pub fn mbid(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    let uuid = raw.len() == 36
        && raw.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    uuid.then(|| raw.to_ascii_lowercase())
}

/// Artist MusicBrainz ids: a tag may hold several, separated by `;`, `/`, `,` or spaces.
pub fn mbids(raw: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in raw.unwrap_or_default().split([';', '/', ',', ' ']) {
        if let Some(id) = mbid(Some(part))
            && !out.contains(&id)
        {
            out.push(id);
        }
    }
    out
}

/// The `track_metadata` of a ListenBrainz listen.
fn track_metadata(track: &TrackInfo) -> Value {
    let mut info = Map::new();
    info.insert("submission_client".into(), SUBMISSION_CLIENT.into());
    info.insert(
        "submission_client_version".into(),
        env!("CARGO_PKG_VERSION").into(),
    );
    if let Some(client) = &track.client {
        info.insert("media_player".into(), client.clone().into());
    }
    if track.duration_ms > 0 {
        info.insert("duration_ms".into(), track.duration_ms.into());
    }
    if let Some(n) = track.track_number {
        info.insert("tracknumber".into(), n.into());
    }
    if let Some(id) = &track.recording_mbid {
        info.insert("recording_mbid".into(), id.clone().into());
    }
    if let Some(id) = &track.track_mbid {
        info.insert("track_mbid".into(), id.clone().into());
    }
    if let Some(id) = &track.release_mbid {
        info.insert("release_mbid".into(), id.clone().into());
    }
    if !track.artist_mbids.is_empty() {
        info.insert("artist_mbids".into(), track.artist_mbids.clone().into());
    }
    let mut meta = Map::new();
    meta.insert("artist_name".into(), track.artist.clone().into());
    meta.insert("track_name".into(), track.title.clone().into());
    if !track.album.is_empty() {
        meta.insert("release_name".into(), track.album.clone().into());
    }
    meta.insert("additional_info".into(), Value::Object(info));
    Value::Object(meta)
}

/// The body of `POST /1/submit-listens` for listens (epoch seconds, track): `single` for
/// one, `import` for several (the API's type for more than one listen).
pub fn listenbrainz_listens(listens: &[(i64, &TrackInfo)]) -> Value {
    let payload: Vec<Value> = listens
        .iter()
        .map(|(at, track)| json!({ "listened_at": at, "track_metadata": track_metadata(track) }))
        .collect();
    let kind = if listens.len() == 1 {
        "single"
    } else {
        "import"
    };
    json!({ "listen_type": kind, "payload": payload })
}

/// The body of `POST /1/submit-listens` for "playing now" (no time).
pub fn listenbrainz_playing_now(track: &TrackInfo) -> Value {
    json!({
        "listen_type": "playing_now",
        "payload": [{ "track_metadata": track_metadata(track) }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track() -> TrackInfo {
        TrackInfo {
            title: "Song".into(),
            artist: "Band".into(),
            album: "Record".into(),
            album_artist: None,
            duration_ms: 215_000,
            track_number: Some(3),
            recording_mbid: Some("11111111-2222-3333-4444-555555555555".into()),
            track_mbid: None,
            release_mbid: Some("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into()),
            artist_mbids: vec!["99999999-8888-7777-6666-555555555555".into()],
            client: Some("DSub".into()),
        }
    }

    #[test]
    fn one_listen_is_single_with_all_it_knows() {
        let t = track();
        let body = listenbrainz_listens(&[(1_700_000_000, &t)]);
        assert_eq!(body["listen_type"], "single");
        let listen = &body["payload"][0];
        assert_eq!(listen["listened_at"], 1_700_000_000);
        let meta = &listen["track_metadata"];
        assert_eq!(meta["artist_name"], "Band");
        assert_eq!(meta["track_name"], "Song");
        assert_eq!(meta["release_name"], "Record");
        let info = &meta["additional_info"];
        assert_eq!(info["duration_ms"], 215_000);
        assert_eq!(info["tracknumber"], 3);
        assert_eq!(info["media_player"], "DSub");
        assert_eq!(info["submission_client"], SUBMISSION_CLIENT);
        assert_eq!(
            info["recording_mbid"],
            "11111111-2222-3333-4444-555555555555"
        );
        assert_eq!(info["release_mbid"], "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
        assert_eq!(
            info["artist_mbids"],
            json!(["99999999-8888-7777-6666-555555555555"])
        );
        assert!(info.get("track_mbid").is_none(), "unknown ids are left out");
    }

    #[test]
    fn several_listens_are_an_import_and_playing_now_has_no_time() {
        let (a, b) = (
            track(),
            TrackInfo {
                album: String::new(),
                ..track()
            },
        );
        let body = listenbrainz_listens(&[(1, &a), (2, &b)]);
        assert_eq!(body["listen_type"], "import");
        assert_eq!(body["payload"].as_array().unwrap().len(), 2);
        assert!(
            body["payload"][1]["track_metadata"]
                .get("release_name")
                .is_none()
        );
        let now = listenbrainz_playing_now(&a);
        assert_eq!(now["listen_type"], "playing_now");
        assert!(now["payload"][0].get("listened_at").is_none());
    }

    #[test]
    fn mbids_are_uuids_only() {
        assert_eq!(
            mbid(Some(" 11111111-2222-3333-4444-55555555555A ")),
            Some("11111111-2222-3333-4444-55555555555a".into())
        );
        assert_eq!(mbid(Some("not an id")), None);
        assert_eq!(
            mbids(Some(
                "11111111-2222-3333-4444-555555555555; 11111111-2222-3333-4444-555555555555/\
                 99999999-8888-7777-6666-555555555555"
            )),
            vec![
                "11111111-2222-3333-4444-555555555555".to_string(),
                "99999999-8888-7777-6666-555555555555".to_string()
            ]
        );
    }

    #[test]
    fn stored_json_reads_back() {
        let t = track();
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<TrackInfo>(&text).unwrap(), t);
    }
}
