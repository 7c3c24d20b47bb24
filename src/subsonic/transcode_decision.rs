//! The OpenSubsonic `transcoding` extension: `getTranscodeDecision` reads what the client can
//! play (a JSON `ClientInfo` body) and decides between the file as it is and one of our
//! transcodes (MP3, Opus); `getTranscodeStream` serves exactly that decision. The decision
//! travels in `transcodeParams`, signed with the server's URL key and bound to the song and
//! the user, so a client cannot point it at another file or raise its bitrate.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{StreamDetails, TranscodeDecision};
use super::response::{Element, ToElement};
use crate::artwork::signing::UrlSigner;
use crate::db::models::Role;
use crate::library::Id;
use crate::library::files::{self, TrackFile};
use crate::transcode::Codec;
use serde::Deserialize;

/// `ClientInfo`: what the client can play. Bitrates are in bits per second.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    pub name: String,
    pub platform: String,
    #[serde(default)]
    pub max_audio_bitrate: Option<i64>,
    #[serde(default)]
    pub max_transcoding_audio_bitrate: Option<i64>,
    #[serde(default)]
    pub direct_play_profiles: Vec<DirectPlayProfile>,
    #[serde(default)]
    pub transcoding_profiles: Vec<TranscodingProfile>,
    #[serde(default)]
    pub codec_profiles: Vec<CodecProfile>,
}

/// A kind of file the client plays as it is; an empty list means "any".
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectPlayProfile {
    #[serde(default)]
    pub containers: Vec<String>,
    #[serde(default)]
    pub audio_codecs: Vec<String>,
    #[serde(default)]
    pub protocols: Vec<String>,
    #[serde(default)]
    pub max_audio_channels: Option<i32>,
}

/// A transcode the client accepts, in the client's order of preference.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscodingProfile {
    pub container: String,
    pub audio_codec: String,
    pub protocol: String,
    #[serde(default)]
    pub max_audio_channels: Option<i32>,
}

/// Limits the client has for one codec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodecProfile {
    pub name: String,
    #[serde(default)]
    pub limitations: Vec<Limitation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limitation {
    pub name: String,
    pub comparison: String,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

/// The facts of a source file the decision looks at.
#[derive(Debug, Clone, Default)]
pub struct SourceFacts {
    pub container: String,
    pub codec: String,
    pub bitrate_bps: Option<i64>,
    pub channels: Option<i32>,
    pub sample_rate: Option<i32>,
    pub bit_depth: Option<i32>,
}

/// What `getTranscodeStream` will send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Direct,
    Transcode { codec: Codec, kbps: u32 },
}

/// The decision with its reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// None: the client can play neither the file nor any of our transcodes.
    pub plan: Option<Plan>,
    pub can_direct_play: bool,
    /// The transcode the client accepts, whether or not it is needed.
    pub transcode: Option<(Codec, u32, &'static str)>,
    /// Why each direct-play profile did not fit (empty when one did).
    pub reasons: Vec<String>,
}

/// The server's side of the caps: the user's maximum and the configured one for this client
/// (kbps, 0 for none), and the bitrate a transcode gets when nothing caps it.
#[derive(Debug, Clone, Copy)]
pub struct ServerCaps {
    pub cap_kbps: u32,
    pub default_kbps: u32,
}

/// Decides how the client gets this source: as it is when a direct-play profile (and the
/// bitrate limits and the required codec limitations) fit, else the first transcoding
/// profile, in the client's order, that our transcoder produces.
pub fn decide(client: &ClientInfo, source: &SourceFacts, caps: ServerCaps) -> Outcome {
    let direct_limit_bps = lowest_positive([
        client.max_audio_bitrate.unwrap_or(0),
        i64::from(caps.cap_kbps) * 1000,
    ]);
    let mut reasons = Vec::new();
    let mut can_direct_play = false;
    if client.direct_play_profiles.is_empty() {
        reasons.push("NoDirectPlayProfile".to_string());
    }
    for profile in &client.direct_play_profiles {
        match direct_play_fits(profile, client, source, direct_limit_bps) {
            Ok(()) => {
                can_direct_play = true;
                reasons.clear();
                break;
            }
            Err(why) => reasons.push(why),
        }
    }
    let transcode = client
        .transcoding_profiles
        .iter()
        .find_map(|profile| transcode_fits(profile, client, source, caps));
    let plan = if can_direct_play {
        Some(Plan::Direct)
    } else {
        transcode.map(|(codec, kbps, _)| Plan::Transcode { codec, kbps })
    };
    Outcome {
        plan,
        can_direct_play,
        transcode,
        reasons,
    }
}

fn lowest_positive(values: impl IntoIterator<Item = i64>) -> Option<i64> {
    values.into_iter().filter(|&v| v > 0).min()
}

fn listed(list: &[String], value: &str) -> bool {
    list.is_empty()
        || list
            .iter()
            .any(|v| v == "*" || v.eq_ignore_ascii_case(value))
}

fn direct_play_fits(
    profile: &DirectPlayProfile,
    client: &ClientInfo,
    source: &SourceFacts,
    limit_bps: Option<i64>,
) -> Result<(), String> {
    if !listed(&profile.containers, &source.container) {
        return Err("ContainerNotSupported".into());
    }
    if !listed(&profile.audio_codecs, &source.codec) {
        return Err("AudioCodecNotSupported".into());
    }
    if !listed(&profile.protocols, "http") {
        return Err("ProtocolNotSupported".into());
    }
    if let Some(max) = profile.max_audio_channels.filter(|&m| m > 0)
        && source.channels.is_none_or(|c| c > max)
    {
        return Err("AudioChannelsNotSupported".into());
    }
    if let Some(limit) = limit_bps
        && source.bitrate_bps.is_none_or(|b| b > limit)
    {
        return Err("AudioBitrateNotSupported".into());
    }
    for codec in client
        .codec_profiles
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(&source.codec))
    {
        for limitation in codec.limitations.iter().filter(|l| l.required) {
            if !limitation_holds(limitation, source) {
                return Err(format!("{}NotSupported", capitalised(&limitation.name)));
            }
        }
    }
    Ok(())
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Whether the source meets a codec limitation; an unknown value meets none.
fn limitation_holds(limitation: &Limitation, source: &SourceFacts) -> bool {
    let value = match limitation.name.as_str() {
        "audioChannels" => source.channels.map(i64::from),
        "audioBitrate" => source.bitrate_bps,
        "audioSamplerate" => source.sample_rate.map(i64::from),
        "audioBitdepth" => source.bit_depth.map(i64::from),
        _ => None,
    };
    let Some(value) = value else {
        return false;
    };
    let numbers: Vec<i64> = limitation
        .values
        .iter()
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    match limitation.comparison.as_str() {
        "Equals" => numbers.contains(&value),
        "NotEquals" => !numbers.contains(&value),
        "LessThanEqual" => numbers.first().is_some_and(|&n| value <= n),
        "GreaterThanEqual" => numbers.first().is_some_and(|&n| value >= n),
        _ => false,
    }
}

/// Our transcode for this profile, if we make one it accepts: its codec, bitrate (kbps) and
/// container name.
fn transcode_fits(
    profile: &TranscodingProfile,
    client: &ClientInfo,
    source: &SourceFacts,
    caps: ServerCaps,
) -> Option<(Codec, u32, &'static str)> {
    if !(profile.protocol.is_empty() || profile.protocol == "*" || profile.protocol == "http") {
        return None;
    }
    let codec = Codec::named(&profile.audio_codec)?;
    let container = match (codec, profile.container.to_ascii_lowercase().as_str()) {
        (Codec::Mp3, "mp3") => "mp3",
        (Codec::Opus, "ogg") => "ogg",
        (Codec::Opus, "opus") => "opus",
        _ => return None,
    };
    // Both encoders keep mono as mono and make everything else stereo.
    let channels = if source.channels == Some(1) { 1 } else { 2 };
    if profile
        .max_audio_channels
        .is_some_and(|m| m > 0 && m < channels)
    {
        return None;
    }
    let codec_limit_bps = client
        .codec_profiles
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(codec.suffix()))
        .flat_map(|c| &c.limitations)
        .filter(|l| l.name == "audioBitrate" && l.comparison == "LessThanEqual")
        .filter_map(|l| l.values.first()?.trim().parse::<i64>().ok())
        .min()
        .unwrap_or(0);
    let wanted_kbps = lowest_positive([
        client.max_transcoding_audio_bitrate.unwrap_or(0) / 1000,
        client.max_audio_bitrate.unwrap_or(0) / 1000,
        codec_limit_bps / 1000,
        i64::from(caps.cap_kbps),
    ])
    .map_or(caps.default_kbps, |k| {
        k.clamp(1, i64::from(u32::MAX)) as u32
    });
    Some((codec, codec.bitrate(wanted_kbps), container))
}

/// `transcodeParams`: the plan, signed for one song and one user. A podcast episode signs as
/// its track id, minus the episode id, so a signature for episode N never passes for song N.
pub fn sign_params(signer: &UrlSigner, song: i32, user: i32, plan: Plan) -> String {
    let (kind, kbps) = plan_parts(plan);
    let signature = signer.sign(&signed_subject(song, user, kind), Some(kbps));
    format!("{kind}-{kbps}-{signature}")
}

/// The plan in `params`, when it was signed for this song and user.
pub fn verify_params(signer: &UrlSigner, song: i32, user: i32, params: &str) -> Option<Plan> {
    let mut parts = params.splitn(3, '-');
    let (kind, kbps, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let kbps: u32 = kbps.parse().ok()?;
    if !signer.verify(&signed_subject(song, user, kind), Some(kbps), signature) {
        return None;
    }
    match kind {
        "direct" => Some(Plan::Direct),
        other => Codec::named(other).map(|codec| Plan::Transcode { codec, kbps }),
    }
}

fn plan_parts(plan: Plan) -> (&'static str, u32) {
    match plan {
        Plan::Direct => ("direct", 0),
        Plan::Transcode { codec, kbps } => (codec.suffix(), kbps),
    }
}

/// What the signature covers besides the bitrate ("transcode" keeps it apart from image URLs
/// signed with the same key).
fn signed_subject(song: i32, user: i32, kind: &str) -> String {
    format!("transcode\n{song}\n{user}\n{kind}")
}

/// The caller's caps: their own maximum and the configured one of their client (`c`).
fn server_caps(ctx: &Ctx) -> ServerCaps {
    let settings = &ctx.state.transcoder.settings;
    let cap = [
        ctx.user.max_bit_rate.max(0) as u32,
        settings.client_cap(ctx.params.get("c")),
    ]
    .into_iter()
    .filter(|&c| c > 0)
    .min()
    .unwrap_or(0);
    ServerCaps {
        cap_kbps: cap,
        default_kbps: settings.default_bit_rate,
    }
}

/// The song or podcast episode named by `mediaId`, as `mediaType` says (`song`: a track the
/// caller may see; `podcast`: a downloaded episode, as `stream` serves it).
async fn requested_song(ctx: &Ctx) -> Result<TrackFile, ApiError> {
    let media_type = ctx.params.required("mediaType")?;
    let id = Id::parse(ctx.params.required("mediaId")?);
    match media_type {
        "song" => {}
        "podcast" => {
            let Some(Id::PodcastEpisode(id)) = id else {
                return Err(ApiError::NotFound("Podcast episode"));
            };
            // As `stream` finds it (70 until it is downloaded).
            let folder = ctx.state.podcasts.folder().to_path_buf();
            return ctx
                .db(move |c| Ok(crate::podcasts::playable(c, id, &folder)?))
                .await?
                .ok_or(ApiError::NotFound("Downloaded podcast episode"));
        }
        _ => return Err(ApiError::BadParam("mediaType")),
    }
    let Some(Id::Track(id)) = id else {
        return Err(ApiError::NotFound("Song"));
    };
    let scope = ctx.viewer.scope.clone();
    ctx.db(move |c| {
        let track = files::track_file(c, id)?;
        Ok(track.filter(|t| scope.allows(t.track.folder_id)))
    })
    .await?
    .ok_or(ApiError::NotFound("Song"))
}

fn source_facts(track: &TrackFile) -> SourceFacts {
    let audio = &track.track.audio;
    SourceFacts {
        container: audio.suffix.to_ascii_lowercase(),
        codec: audio.codec.to_ascii_lowercase(),
        bitrate_bps: audio.bitrate.map(|k| i64::from(k) * 1000),
        channels: audio.channels,
        sample_rate: audio.sample_rate,
        bit_depth: audio.bit_depth,
    }
}

/// getTranscodeDecision: POST with a JSON `ClientInfo` body.
pub async fn get_transcode_decision(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Stream)?;
    let body = ctx.params.json_body().ok_or(ApiError::MissingParam(
        "ClientInfo (a JSON request body, Content-Type: application/json)",
    ))?;
    let client: ClientInfo = serde_json::from_slice(body).map_err(|e| {
        ApiError::Refused(format!(
            "the ClientInfo body is not valid JSON of that shape: {e}"
        ))
    })?;
    let track = requested_song(&ctx).await?;
    let source = source_facts(&track);
    let outcome = decide(&client, &source, server_caps(&ctx));
    let signer = ctx.state.artwork.signer();
    let params = outcome
        .plan
        .map(|plan| sign_params(signer, track.track.id, ctx.user.id, plan));
    let transcode_stream = match outcome.plan {
        Some(Plan::Transcode { codec, kbps }) => outcome.transcode.map(|(_, _, container)| {
            let channels = if source.channels == Some(1) { 1 } else { 2 };
            StreamDetails {
                protocol: "http",
                container: container.to_string(),
                codec: codec.suffix().to_string(),
                audio_channels: Some(channels),
                audio_bitrate: Some(i64::from(kbps) * 1000),
                audio_samplerate: (codec == Codec::Opus).then_some(48_000),
                audio_bitdepth: None,
            }
        }),
        _ => None,
    };
    let decision = TranscodeDecision {
        can_direct_play: outcome.can_direct_play,
        can_transcode: outcome.transcode.is_some(),
        transcode_reason: outcome.reasons,
        error_reason: outcome
            .plan
            .is_none()
            .then(|| "the client plays neither this file nor a transcode this server makes".into()),
        transcode_params: params,
        source_stream: StreamDetails {
            protocol: "http",
            container: source.container.clone(),
            codec: source.codec.clone(),
            audio_channels: source.channels,
            audio_bitrate: source.bitrate_bps,
            audio_samplerate: source.sample_rate,
            audio_bitdepth: source.bit_depth,
        },
        transcode_stream,
    };
    Ok(Some(decision.into_element("transcodeDecision")))
}

/// What getTranscodeStream sends (`media` serves it): the song, the plan its signed
/// `transcodeParams` carry (with a cap lowered since the decision applied), and `offset`.
pub async fn requested_stream(ctx: &Ctx) -> Result<(TrackFile, Plan, f64), ApiError> {
    let offset = ctx.params.number::<f64>("offset")?.unwrap_or(0.0);
    if !offset.is_finite() || offset < 0.0 {
        return Err(ApiError::BadParam("offset"));
    }
    let params = ctx.params.required("transcodeParams")?;
    let track = requested_song(ctx).await?;
    let signer = ctx.state.artwork.signer();
    let plan = verify_params(signer, track.track.id, ctx.user.id, params).ok_or_else(|| {
        ApiError::Refused(
            "transcodeParams were not made by getTranscodeDecision for this song and user".into(),
        )
    })?;
    let plan = match plan {
        Plan::Direct if offset > 0.0 => {
            return Err(ApiError::Refused(
                "offset needs a transcode; this decision sends the file as it is".into(),
            ));
        }
        Plan::Transcode { codec, kbps } => {
            let cap = server_caps(ctx).cap_kbps;
            let kbps = if cap > 0 && kbps > cap {
                codec.bitrate(cap)
            } else {
                kbps
            };
            Plan::Transcode { codec, kbps }
        }
        direct => direct,
    };
    Ok((track, plan, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flac() -> SourceFacts {
        SourceFacts {
            container: "flac".into(),
            codec: "flac".into(),
            bitrate_bps: Some(900_000),
            channels: Some(2),
            sample_rate: Some(44_100),
            bit_depth: Some(16),
        }
    }

    fn client(json: &str) -> ClientInfo {
        serde_json::from_str(json).unwrap()
    }

    const NO_CAPS: ServerCaps = ServerCaps {
        cap_kbps: 0,
        default_kbps: 192,
    };

    #[test]
    fn a_listed_codec_plays_directly() {
        let c = client(
            r#"{"name":"x","platform":"y","directPlayProfiles":[
            {"containers":["mp3"],"audioCodecs":["mp3"],"protocols":["http"]},
            {"containers":["flac"],"audioCodecs":["flac"],"protocols":[]}]}"#,
        );
        let outcome = decide(&c, &flac(), NO_CAPS);
        assert_eq!(outcome.plan, Some(Plan::Direct));
        assert!(outcome.reasons.is_empty());
    }

    #[test]
    fn caps_and_limitations_force_a_transcode_at_the_lowest_cap() {
        let c = client(
            r#"{"name":"x","platform":"y","maxTranscodingAudioBitrate":160000,
            "directPlayProfiles":[{"containers":["flac"],"audioCodecs":["flac"],"protocols":[]}],
            "transcodingProfiles":[{"container":"m4a","audioCodec":"aac","protocol":"http"},
                {"container":"ogg","audioCodec":"opus","protocol":"http"}],
            "codecProfiles":[{"type":"AudioCodec","name":"flac","limitations":[
                {"name":"audioSamplerate","comparison":"LessThanEqual","values":["22050"],"required":true}]}]}"#,
        );
        let outcome = decide(&c, &flac(), NO_CAPS);
        assert!(!outcome.can_direct_play);
        assert_eq!(outcome.reasons, ["AudioSamplerateNotSupported"]);
        assert_eq!(
            outcome.plan,
            Some(Plan::Transcode {
                codec: Codec::Opus,
                kbps: Codec::Opus.bitrate(160)
            })
        );
        // The server's cap is lower still, and an unknown source bitrate cannot be direct.
        let capped = ServerCaps {
            cap_kbps: 96,
            default_kbps: 192,
        };
        let outcome = decide(&c, &flac(), capped);
        assert_eq!(
            outcome.transcode.map(|t| t.1),
            Some(Codec::Opus.bitrate(96))
        );
    }

    #[test]
    fn the_server_cap_stops_direct_play_and_nothing_fits_without_our_codecs() {
        let c = client(
            r#"{"name":"x","platform":"y",
            "directPlayProfiles":[{"containers":[],"audioCodecs":[],"protocols":[]}],
            "transcodingProfiles":[{"container":"m4a","audioCodec":"aac","protocol":"http"}]}"#,
        );
        let capped = ServerCaps {
            cap_kbps: 320,
            default_kbps: 192,
        };
        let outcome = decide(&c, &flac(), capped);
        assert_eq!(outcome.reasons, ["AudioBitrateNotSupported"]);
        assert_eq!(outcome.plan, None);
        assert_eq!(decide(&c, &flac(), NO_CAPS).plan, Some(Plan::Direct));
    }

    #[test]
    fn params_are_bound_to_song_user_and_bitrate() {
        let signer = UrlSigner::new([7; 32]);
        let plan = Plan::Transcode {
            codec: Codec::Mp3,
            kbps: 128,
        };
        let params = sign_params(&signer, 5, 2, plan);
        assert_eq!(verify_params(&signer, 5, 2, &params), Some(plan));
        assert_eq!(verify_params(&signer, 6, 2, &params), None);
        assert_eq!(verify_params(&signer, 5, 3, &params), None);
        let raised = params.replacen("-128-", "-320-", 1);
        assert_eq!(verify_params(&signer, 5, 2, &raised), None);
        let direct = params.replacen("mp3-128", "direct-0", 1);
        assert_eq!(verify_params(&signer, 5, 2, &direct), None);
        assert_eq!(verify_params(&signer, 5, 2, "garbage"), None);
    }
}
