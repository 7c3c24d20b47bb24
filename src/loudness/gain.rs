//! The ReplayGain 2.0 arithmetic: measured loudness → gain, and which values a song serves
//! (tags first). Pure, so the rules are unit-tested without audio or a database.

/// ReplayGain 2.0's reference level: a track measured at -18 LUFS gets 0 dB.
pub const REFERENCE_LUFS: f64 = -18.0;

/// EBU R128's absolute gate: blocks quieter than this are not counted, so a track with no
/// block above it has no integrated loudness (pure silence reads -inf).
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;

/// The gain (dB) that brings `lufs` to the reference; none for a loudness that is not a
/// measurement (silence's -inf, NaN) or lies below the absolute gate.
/// Rounded to 0.01 dB, as taggers write gains (the subtraction would otherwise show float
/// noise like 2.0000000000000284).
pub fn gain_db(lufs: f64) -> Option<f64> {
    (lufs.is_finite() && lufs >= ABSOLUTE_GATE_LUFS)
        .then(|| ((REFERENCE_LUFS - lufs) * 100.0).round() / 100.0)
}

/// A linear peak worth serving: finite and not negative (a true peak can exceed 1.0);
/// rounded to six decimals.
pub fn peak(linear: f64) -> Option<f64> {
    (linear.is_finite() && linear >= 0.0).then(|| (linear * 1e6).round() / 1e6)
}

/// What the server measured for a track, as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measured {
    pub track_lufs: Option<f64>,
    pub track_peak: Option<f64>,
    pub album_lufs: Option<f64>,
    pub album_peak: Option<f64>,
}

/// A song's ReplayGain values, gains in dB, peaks linear.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Gains {
    pub track_gain: Option<f64>,
    pub track_peak: Option<f64>,
    pub album_gain: Option<f64>,
    pub album_peak: Option<f64>,
}

impl Gains {
    /// The track's ReplayGain tags.
    pub fn tagged(t: &crate::db::models::TrackTags) -> Gains {
        Gains {
            track_gain: t.rg_track_gain,
            track_peak: t.rg_track_peak,
            album_gain: t.rg_album_gain,
            album_peak: t.rg_album_peak,
        }
    }

    /// The values to serve: the tags' where the track has a gain tag, else the measured ones.
    /// A gain and its peak are taken together from one source, so a tagged gain is never
    /// capped by a measured peak (or the other way round).
    pub fn served(tags: Gains, measured: Option<&Measured>) -> Gains {
        let computed = measured.map(|m| Gains {
            track_gain: m.track_lufs.and_then(gain_db),
            track_peak: m.track_peak.and_then(peak),
            album_gain: m.album_lufs.and_then(gain_db),
            album_peak: m.album_peak.and_then(peak),
        });
        let Some(computed) = computed else {
            return tags;
        };
        let (track_gain, track_peak) = if tags.track_gain.is_some() {
            (tags.track_gain, tags.track_peak)
        } else {
            (computed.track_gain, computed.track_peak)
        };
        let (album_gain, album_peak) = if tags.album_gain.is_some() {
            (tags.album_gain, tags.album_peak)
        } else {
            (computed.album_gain, computed.album_peak)
        };
        Gains {
            track_gain,
            track_peak,
            album_gain,
            album_peak,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gain_is_the_distance_to_minus_18_lufs() {
        assert_eq!(gain_db(-18.0), Some(0.0));
        assert_eq!(gain_db(-23.0), Some(5.0));
        assert_eq!(gain_db(-9.5), Some(-8.5));
        assert_eq!(gain_db(-70.0), Some(52.0));
        assert_eq!(gain_db(-20.004), Some(2.0));
        assert_eq!(peak(0.123_456_78), Some(0.123_457));
    }

    #[test]
    fn silence_and_nonsense_get_no_gain() {
        assert_eq!(gain_db(f64::NEG_INFINITY), None);
        assert_eq!(gain_db(f64::NAN), None);
        assert_eq!(gain_db(f64::INFINITY), None);
        assert_eq!(gain_db(-70.1), None);
        assert_eq!(peak(f64::NAN), None);
        assert_eq!(peak(-0.5), None);
        assert_eq!(peak(1.12), Some(1.12));
    }

    fn measured() -> Measured {
        Measured {
            track_lufs: Some(-20.0),
            track_peak: Some(0.1),
            album_lufs: Some(-16.0),
            album_peak: Some(0.2),
        }
    }

    #[test]
    fn measured_values_fill_untagged_songs() {
        let served = Gains::served(Gains::default(), Some(&measured()));
        assert_eq!(
            served,
            Gains {
                track_gain: Some(2.0),
                track_peak: Some(0.1),
                album_gain: Some(-2.0),
                album_peak: Some(0.2),
            }
        );
        assert_eq!(Gains::served(Gains::default(), None), Gains::default());
    }

    #[test]
    fn tags_win_pair_by_pair() {
        let tags = Gains {
            track_gain: Some(-7.5),
            track_peak: None,
            album_gain: None,
            album_peak: Some(0.9),
        };
        let served = Gains::served(tags, Some(&measured()));
        // The tagged track gain comes without the measured peak; the album pair, untagged
        // (a peak alone is not a gain), is the measured one.
        assert_eq!(served.track_gain, Some(-7.5));
        assert_eq!(served.track_peak, None);
        assert_eq!(served.album_gain, Some(-2.0));
        assert_eq!(served.album_peak, Some(0.2));
    }

    #[test]
    fn a_failed_measurement_serves_nothing() {
        let failed = Measured::default();
        assert_eq!(
            Gains::served(Gains::default(), Some(&failed)),
            Gains::default()
        );
    }
}
