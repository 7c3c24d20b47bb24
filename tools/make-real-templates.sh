#!/usr/bin/env bash
# Writes the real-world material for the benchmarks' `--material real` mode into OUT_DIR:
# four minutes of a music-like signal (pink noise in both channels, independent, with a
# tone) encoded as every format at the bitrates people use, and cover pictures of real
# sizes. src/synth.rs (`RealMaterial`) tags copies of these files as it tags the tiny
# templates. Not committed: about 230 MB, made in about 20 seconds.
#
# Needs ffmpeg (with libmp3lame, libvorbis, libopus, libspeex): apt-get install -y ffmpeg
# Musepack and Monkey's Audio have no encoder in Debian's ffmpeg: those formats keep their
# tiny templates (they are 1 % of the mix each).
#
# Usage: tools/make-real-templates.sh OUT_DIR
set -euo pipefail

out="${1:?usage: make-real-templates.sh OUT_DIR}"
command -v ffmpeg >/dev/null || {
    echo "missing ffmpeg: apt-get install -y ffmpeg" >&2
    exit 1
}
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
strip=(-map_metadata -1 -map_chapters -1 -fflags +bitexact -flags:a +bitexact)

# Independent pink noise per channel compresses about as badly as music does (FLAC ~1 Mbit/s).
ff -filter_complex "anoisesrc=c=pink:a=0.2:seed=1:d=240:r=44100[a];\
anoisesrc=c=pink:a=0.2:seed=2:d=240:r=44100[b];\
sine=f=220:d=240:sample_rate=44100,volume=0.3[s];\
[a][s]amix=inputs=2:normalize=0[l];[l][b]join=inputs=2:channel_layout=stereo" \
    -c:a pcm_s16le "$work/music.wav"
in=(-i "$work/music.wav" "${strip[@]}")

ff "${in[@]}" -c:a libmp3lame -b:a 256k -id3v2_version 0 -write_id3v1 0 "$out/real.mp3"
ff "${in[@]}" -c:a flac -compression_level 5 "$out/real.flac"
ff "${in[@]}" -c:a libvorbis -q:a 5 "$out/real.ogg"
ff "${in[@]}" -ar 48000 -c:a libopus -b:a 128k "$out/real.opus"
ff "${in[@]}" -ar 16000 -ac 1 -c:a libspeex -f ogg "$out/real.spx"
# iTunes writes the index (moov) first; so do we.
ff "${in[@]}" -c:a aac -b:a 256k -movflags +faststart -f ipod "$out/real.m4a"
ff "${in[@]}" -c:a alac -sample_fmt s16p -movflags +faststart -f ipod "$out/real-alac.m4a"
ff "${in[@]}" -c:a aac -b:a 256k -f adts "$out/real.aac"
ff "${in[@]}" -c:a wmav2 -b:a 192k "$out/real.wma"
ff "${in[@]}" -c:a wavpack "$out/real.wv"
ff "${in[@]}" -c:a pcm_s16le -f wav "$out/real.wav"
ff "${in[@]}" -c:a pcm_s16be -write_id3v2 0 -f aiff "$out/real.aiff"

# Pictures: a 3000 px cover (2.6 MB, as scans from a high-resolution release carry) and
# a 1200 px one (~500 KB, a typical store download); a 1000 px PNG for folder art.
ff -f lavfi -i "color=c=0x336699:s=3000x3000,noise=alls=40:allf=t,format=yuvj420p" \
    -frames:v 1 -q:v 9 "$out/cover-3000.jpg"
ff -f lavfi -i "color=c=0x993366:s=1200x1200,noise=alls=30:allf=t,format=yuvj420p" \
    -frames:v 1 -q:v 5 "$out/cover-1200.jpg"
ff -f lavfi -i "color=c=0x669933:s=1000x1000,noise=alls=10:allf=t" -frames:v 1 "$out/cover-1000.png"
echo "real material written to $out"
