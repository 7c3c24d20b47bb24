//! The wire types of the OpenSubsonic `transcoding` extension's answer (`transcodeDecision`).

use super::super::response::{Element, ToElement, Value};

/// `StreamDetails`: what a stream is (bitrates in bits per second, as the extension counts).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamDetails {
    pub protocol: &'static str,
    pub container: String,
    pub codec: String,
    pub audio_channels: Option<i32>,
    pub audio_bitrate: Option<i64>,
    pub audio_samplerate: Option<i32>,
    pub audio_bitdepth: Option<i32>,
}

impl ToElement for StreamDetails {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("protocol", self.protocol)
            .attr("container", self.container)
            .attr("codec", self.codec)
            .attr_opt("audioChannels", self.audio_channels)
            .attr_opt("audioBitrate", self.audio_bitrate)
            .attr_opt("audioSamplerate", self.audio_samplerate)
            .attr_opt("audioBitdepth", self.audio_bitdepth)
    }
}

/// `TranscodeDecision`: whether the client can play the file as it is, else whether (and to
/// what) the server transcodes it, with the signed parameters of that stream.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeDecision {
    pub can_direct_play: bool,
    pub can_transcode: bool,
    pub transcode_reason: Vec<String>,
    pub error_reason: Option<String>,
    pub transcode_params: Option<String>,
    pub source_stream: StreamDetails,
    pub transcode_stream: Option<StreamDetails>,
}

impl ToElement for TranscodeDecision {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("canDirectPlay", self.can_direct_play)
            .attr("canTranscode", self.can_transcode)
            .attr_opt("errorReason", self.error_reason)
            .attr_opt("transcodeParams", self.transcode_params)
            .scalars(
                "transcodeReason",
                self.transcode_reason.into_iter().map(Value::from).collect(),
            )
            .child(self.source_stream.into_element("sourceStream"))
            .child_opt(
                self.transcode_stream
                    .map(|s| s.into_element("transcodeStream")),
            )
    }
}
