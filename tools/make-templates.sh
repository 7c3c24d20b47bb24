#!/usr/bin/env bash
# Regenerates tests/fixtures/templates/: one tiny, untagged audio file per format plus two
# cover images. src/synth.rs embeds these files and writes tags onto copies of them.
#
# Needs (Debian): ffmpeg (with libmp3lame, libvorbis, libopus, libspeex), flac, wavpack,
# musepack-tools (mpcenc), python3.
#   apt-get install -y ffmpeg flac wavpack musepack-tools python3
#
# Usage: tools/make-templates.sh [OUT_DIR]   (default: tests/fixtures/templates next to tools/)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../tests/fixtures/templates}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

for tool in ffmpeg flac wavpack mpcenc python3; do
    command -v "$tool" >/dev/null || {
        echo "missing $tool: apt-get install -y ffmpeg flac wavpack musepack-tools python3" >&2
        exit 1
    }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A quiet 440 Hz sine: low amplitude keeps the lossless files to a few KB.
tone() { # tone SECONDS RATE -> lavfi source spec
    echo "aevalsrc=0.002*sin(440*2*PI*t)|0.002*sin(440*2*PI*t):s=$2:d=$1"
}
# Shared ffmpeg flags: no tags, no encoder string, reproducible output.
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
strip=(-map_metadata -1 -map_chapters -1 -fflags +bitexact -flags:a +bitexact)

ff -f lavfi -i "$(tone 0.5 44100)" "${strip[@]}" -c:a pcm_s16le "$work/half.wav"
ff -f lavfi -i "$(tone 0.1 44100)" "${strip[@]}" -c:a pcm_s16le "$work/short.wav"

# Lossy formats: 0.5 s.
ff -i "$work/half.wav" "${strip[@]}" -c:a libmp3lame -b:a 64k -id3v2_version 0 -write_id3v1 0 "$out/tone.mp3"
ff -i "$work/half.wav" "${strip[@]}" -c:a libvorbis -q:a 0 "$out/tone.ogg"
ff -i "$work/half.wav" "${strip[@]}" -ar 48000 -c:a libopus -b:a 24k "$out/tone.opus"
ff -i "$work/half.wav" "${strip[@]}" -ar 16000 -ac 1 -c:a libspeex -f ogg "$out/tone.spx"
ff -i "$work/half.wav" "${strip[@]}" -c:a aac -b:a 48k -f ipod "$out/tone.m4a"
ff -i "$work/half.wav" "${strip[@]}" -c:a aac -b:a 48k -f adts "$out/tone.aac"
mpcenc --silent --overwrite --quality 2 "$work/half.wav" "$out/tone.mpc"
# WMA: tags are written by src/synth.rs (lofty has no ASF support). DSD (DSF, DFF) has no
# template: ffmpeg cannot encode DSD, so src/synth.rs generates those files.
ff -i "$work/half.wav" "${strip[@]}" -c:a wmav2 -b:a 32k "$out/tone.wma"

# ffmpeg always leaves an ENCODER comment in Ogg streams; drop every comment but the vendor.
strip_ogg_comments() {
    python3 - "$@" <<'PY'
import struct, sys

def crc(data):
    c = 0
    for b in data:
        c ^= b << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) if c & 0x80000000 else c << 1
            c &= 0xFFFFFFFF
    return c

def page(flags, granule, serial, seq, packets):
    lacing = b"".join(bytes([255] * (len(p) // 255) + [len(p) % 255]) for p in packets)
    assert len(lacing) <= 255
    head = b"OggS" + struct.pack("<BBqIIIB", 0, flags, granule, serial, seq, 0, len(lacing))
    raw = head + lacing + b"".join(packets)
    return raw[:22] + struct.pack("<I", crc(raw)) + raw[26:]

for path in sys.argv[1:]:
    data = open(path, "rb").read()
    pages, pos = [], 0
    while pos < len(data):
        flags, granule, serial, seq, _, n = struct.unpack_from("<BqIIIB", data, pos + 5)
        lacing = data[pos + 27 : pos + 27 + n]
        body = data[pos + 27 + n : pos + 27 + n + sum(lacing)]
        pages.append((flags, granule, serial, lacing, body))
        pos += 27 + n + sum(lacing)
    # Split the header pages into packets until the comment packet (and vorbis setup) end a page.
    first = pages[0][4]
    n_headers = 3 if first.startswith(b"\x01vorbis") else 2
    packets, cur, used = [], b"", 0
    while len(packets) < n_headers or cur:
        _, _, _, lacing, body = pages[used]
        off = 0
        for l in lacing:
            cur += body[off : off + l]
            off += l
            if l < 255:
                packets.append(cur)
                cur = b""
        used += 1
    comment = packets[1]
    # Comment packet: [magic] vendor_len vendor count {len comment}* [framing bit, vorbis only]
    magic = 7 if comment.startswith(b"\x03vorbis") else 8 if comment.startswith(b"OpusTags") else 0
    vlen = struct.unpack_from("<I", comment, magic)[0]
    new = comment[: magic + 4 + vlen] + struct.pack("<I", 0) + (b"\x01" if magic == 7 else b"")
    packets[1] = new
    serial = pages[0][2]
    out = [page(2, 0, serial, 0, packets[:1]), page(0, 0, serial, 1, packets[1:])]
    for seq, (flags, granule, _, lacing, body) in enumerate(pages[used:], start=2):
        raw = b"OggS" + struct.pack("<BBqIIIB", 0, flags, granule, serial, seq, 0, len(lacing)) + lacing + body
        out.append(raw[:22] + struct.pack("<I", crc(raw)) + raw[26:])
    open(path, "wb").write(b"".join(out))
PY
}
strip_ogg_comments "$out/tone.ogg" "$out/tone.opus" "$out/tone.spx"

# Lossless formats: 0.5 s; flac/wavpack CLIs compress far better than ffmpeg's encoders
# and flac's --no-padding avoids ffmpeg's 8 KiB padding block.
flac --silent -8 --no-padding --no-seektable -f "$work/half.wav" -o "$out/tone.flac"
wavpack -q -y -hh "$work/half.wav" -o "$out/tone.wv"
ff -i "$work/half.wav" "${strip[@]}" -c:a alac -sample_fmt s16p -f ipod "$out/tone-alac.m4a"

# Uncompressed formats: only 0.1 s, otherwise they dominate the size budget.
ff -i "$work/short.wav" "${strip[@]}" -c:a pcm_s16le -f wav "$out/tone.wav"
ff -i "$work/short.wav" "${strip[@]}" -c:a pcm_s16be -write_id3v2 0 -f aiff "$out/tone.aiff"

# Monkey's Audio: Debian has no encoder, so write a minimal valid file by hand: one frame
# of 0.5 s of stereo digital silence, using the "pure silence" frame code (no entropy data).
python3 - "$out/tone.ape" <<'PY'
import struct, sys, zlib

rate, channels, bits = 44100, 2, 16
blocks = rate // 2                      # 0.5 s
version = 3990
blocks_per_frame = 73728 * 4            # what MAC >= 3.95 uses
# Frame: CRC (high bit = frame flags follow), flags = stereo silence, then a few bytes the
# range decoder primes itself with. CRC is MAC's: crc32 of the decoded PCM, shifted right.
pcm_crc = zlib.crc32(bytes(blocks * channels * bits // 8)) >> 1
frame = struct.pack("<II", pcm_crc | 0x80000000, 3) + bytes(8)

descriptor_len, header_len, seektable_len = 52, 24, 4
frame_pos = descriptor_len + header_len + seektable_len
descriptor = b"MAC " + struct.pack(
    "<HHIIIIIII16s", version, 0, descriptor_len, header_len, seektable_len,
    0,           # WAV header bytes (none stored: flag CREATE_WAV_HEADER below)
    len(frame), 0,  # APE frame data bytes (low, high)
    0,           # terminating WAV data bytes
    bytes(16),   # MD5 (0 = not checked)
)
header = struct.pack(
    "<HHIIIHHI", 2000,  # compression level: normal
    32,                 # format flags: CREATE_WAV_HEADER
    blocks_per_frame, blocks, 1, bits, channels, rate,
)
seektable = struct.pack("<I", frame_pos)
data = descriptor + header + seektable + frame
assert len(descriptor) == descriptor_len and len(header) == header_len
open(sys.argv[1], "wb").write(data)
PY

# Folder art: 64x64, two distinct colours so tests can tell them apart.
ff -f lavfi -i "color=c=0x3366cc:s=64x64" -frames:v 1 "${strip[@]}" -flags:v +bitexact "$out/cover.jpg"
ff -f lavfi -i "color=c=0xcc6633:s=64x64" -frames:v 1 "${strip[@]}" -flags:v +bitexact "$out/cover.png"

ls -l "$out"
du -cb "$out"/tone* "$out"/cover* | tail -1
