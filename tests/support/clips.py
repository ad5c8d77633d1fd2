"""Real video clips for the tests: made by ffmpeg the way phones write them, or recorded by
Chromium's MediaRecorder from its fake camera, the way the bedside page records.

Phone-like clips carry what a phone's container carries: a rotation flag, the location
(QuickTime ``©xyz`` in ``udta``, and the ``com.apple.quicktime.location.ISO6709`` key of an
iPhone's ``meta``), the make and model, the creation date, and an XMP packet with GPS. The
values below are what a test looks for in a stored object, and must never find.
"""

from __future__ import annotations

import base64
import http.server
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

from pointcare.video.clip import ClipLimits
from pointcare.video.tools import ToolLimits
from tests.support.tools import require_tool

CLIP_TOOL_LIMITS = ToolLimits(timeout_seconds=120, memory_bytes=1024**3, threads=2)
CLIP_LIMITS = ClipLimits(max_bytes=50_000_000, max_seconds=60, tool=CLIP_TOOL_LIMITS)
LOCATION = "+59.3293+018.0686+012.000/"
MAKE, MODEL = "Apple", "iPhone 15 Pro"
CREATION_TIME = "2024-01-02T03:04:05Z"
XMP_LATITUDE = "59,19.758N"
TRACES = (
    b"+59.3293",
    b"59.3293",
    b"018.0686",
    b"\xa9xyz",
    b"ISO6709",
    b"com.apple",
    b"iPhone",
    b"xmpmeta",
    b"x:xmpmeta",
    XMP_LATITUDE.encode(),
    b"2024-01-02",
    b"x264 - core",  # the encoder's settings, an SEI message: a sign SEI survived
)
"""Byte strings that only the metadata of the clips made here contains."""
# Adobe's XMP box UUID for ISO base media files (XMP Specification Part 3, 1.1.4).
_XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
_XMP_PACKET = (
    '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    f'exif:GPSLatitude="{XMP_LATITUDE}" exif:GPSLongitude="18,4.116E"/>'
    '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


ANDROID_METADATA = (
    *("-metadata", f"location={LOCATION}"),
    *("-metadata", f"creation_time={CREATION_TIME}"),
    *("-metadata", f"make={MAKE}"),
    *("-metadata", f"model={MODEL}"),
)
"""What an Android phone's MP4/MOV says of itself (ffmpeg's muxer writes ``location`` as
``©xyz`` in ``udta``)."""
IPHONE_METADATA = (
    *("-metadata", f"com.apple.quicktime.location.ISO6709={LOCATION}"),
    *("-metadata", f"com.apple.quicktime.make={MAKE}"),
    *("-metadata", f"com.apple.quicktime.model={MODEL}"),
    *("-metadata", f"com.apple.quicktime.creationdate={CREATION_TIME}"),
    # Keys in a meta box (mdta), as an iPhone writes them.
    *("-movflags", "use_metadata_tags"),
)
"""What an iPhone's MOV says of itself."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipSpec:
    """How to make one clip with ffmpeg's test source."""

    name: str
    size: tuple[int, int] = (640, 360)
    rate: int = 30
    seconds: float = 2.0
    codec: Sequence[str] = ("-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p")
    container: str = "mp4"
    rotate: int = 0
    metadata: Sequence[str] = ()
    """Container metadata, such as :data:`ANDROID_METADATA`; phone clips get XMP too."""
    video: bool = True
    audio: bool = False
    filters: Sequence[str] = ()
    """ffmpeg video filters applied to the test pattern (camera noise, for the benchmark)."""


PHONE_MOV = ClipSpec(
    name="phone-rotated.mov", container="mov", rotate=90, metadata=ANDROID_METADATA, audio=True
)
"""An Android portrait clip: H.264 High, sideways with a rotation flag, location, sound."""
UPRIGHT_MP4 = ClipSpec(name="upright.mp4")
"""A conformant H.264 High stream: wrapped, not re-encoded."""
UPRIGHT_MOV = ClipSpec(name="upright.mov", container="mov", metadata=ANDROID_METADATA)
"""The same from a phone held level: kept as it is, its metadata dropped."""
HEVC_HDR_MOV = ClipSpec(
    name="iphone-hevc-hlg.mov",
    container="mov",
    rotate=90,
    metadata=IPHONE_METADATA,
    codec=(
        "-c:v",
        "libx265",
        "-tag:v",
        "hvc1",
        "-pix_fmt",
        "yuv420p10le",
        "-x265-params",
        "log-level=error:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc",
    ),
)
"""An iPhone's default since 2020: HEVC Main 10, HLG HDR, portrait."""
VP9_WEBM = ClipSpec(
    name="vp9.webm",
    container="webm",
    codec=("-c:v", "libvpx-vp9", "-b:v", "500k", "-deadline", "realtime"),
)
VP8_WEBM = ClipSpec(
    name="vp8.webm",
    container="webm",
    codec=("-c:v", "libvpx", "-b:v", "500k", "-deadline", "realtime"),
)
BASELINE_MP4 = ClipSpec(
    name="baseline.mp4", codec=("-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p")
)
H264_MKV = ClipSpec(name="h264.mkv", container="matroska")
"""H.264 High in Matroska (as Chromium's ``video/x-matroska;codecs=avc1``): remuxed, kept."""
UHD_MP4 = ClipSpec(
    name="uhd.mp4",
    size=(3840, 2160),
    seconds=0.5,
    codec=("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
)
HD60_MP4 = ClipSpec(
    name="hd60.mp4",
    size=(1920, 1080),
    rate=60,
    seconds=1.0,
    codec=(
        "-c:v",
        "libx264",
        "-preset",
        "superfast",
        "-profile:v",
        "high",
        "-level",
        "4.2",
        "-pix_fmt",
        "yuv420p",
    ),
)
"""1080p at 60 frames/s: level 4.2, the High Profile / Level 4.2 transfer syntax."""
AUDIO_ONLY = ClipSpec(name="voice.m4a", container="mp4", video=False, audio=True)


class ClipFactory:
    """Clips made once per session into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ffmpeg = require_tool("ffmpeg")
        self._lock = threading.Lock()

    def make(self, spec: ClipSpec) -> bytes:
        with self._lock:
            path = self.folder / spec.name
            if not path.exists():
                self._make(spec, path)
            return path.read_bytes()

    def _make(self, spec: ClipSpec, path: Path) -> None:
        sources: list[str] = []
        streams: list[str] = []
        if spec.video:
            width, height = spec.size
            sources += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={spec.rate}"]
            streams += ["-map", "0:v", *(("-vf", ",".join(spec.filters)) if spec.filters else ())]
            streams += spec.codec
        if spec.audio:
            sources += ["-f", "lavfi", "-i", "sine=frequency=440"]
            streams += ["-map", f"{1 if spec.video else 0}:a", "-c:a", "aac"]
        metadata = list(spec.metadata)
        first = path.with_name("first-" + path.name)
        self._ffmpeg(
            [
                *sources,
                "-t",
                f"{spec.seconds}",
                *streams,
                *metadata,
                "-f",
                spec.container,
                str(first),
            ]
        )
        if spec.rotate:
            # ffmpeg 5.1 writes a rotation flag only when it copies a stream.
            self._ffmpeg(
                [
                    "-i",
                    str(first),
                    "-map",
                    "0",
                    "-c",
                    "copy",
                    "-map_metadata",
                    "0",
                    "-metadata:s:v:0",
                    f"rotate={spec.rotate}",
                    *metadata,
                    "-f",
                    spec.container,
                    str(path),
                ]
            )
            first.unlink()
        else:
            first.rename(path)
        if spec.metadata and spec.container in ("mov", "mp4"):
            with path.open("ab") as clip:
                clip.write(xmp_box())

    def _ffmpeg(self, args: list[str]) -> None:
        subprocess.run(
            [self.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", *args],
            check=True,
            capture_output=True,
            timeout=120,
        )


def run_on(data: bytes, tool: str, *args: str) -> bytes:
    """``tool`` (``ffprobe`` or ``ffmpeg``) run on ``data`` in a temporary file: ``{}`` in
    ``args`` stands for the file. Its standard output."""
    with tempfile.NamedTemporaryFile(suffix=".clip") as file:
        file.write(data)
        file.flush()
        done = subprocess.run(
            [require_tool(tool), "-v", "error", *(arg.replace("{}", file.name) for arg in args)],
            capture_output=True,
            check=True,
            timeout=120,
        )
    return done.stdout


def stream_hash(clip: bytes, demuxer: str = "mov") -> str:
    """MD5 of the video stream's packets without SEI messages: equal when a stream was kept,
    whatever container holds it."""
    return (
        run_on(
            clip,
            "ffmpeg",
            "-f",
            demuxer,
            "-i",
            "{}",
            "-map",
            "0:v:0",
            "-c",
            "copy",
            "-bsf:v",
            "filter_units=remove_types=6",
            "-f",
            "streamhash",
            "-hash",
            "md5",
            "-",
        )
        .decode()
        .strip()
    )


def xmp_box() -> bytes:
    """A top-level ``uuid`` box holding an XMP packet with GPS, as Adobe tools and some phones
    append to MP4 and MOV files."""
    payload = _XMP_UUID + _XMP_PACKET.encode()
    return struct.pack(">I", 8 + len(payload)) + b"uuid" + payload


# --- Chromium's MediaRecorder -------------------------------------------------------------------

RECORDED_TYPES = (
    "video/webm;codecs=vp8",
    "video/webm;codecs=vp9",
    "video/x-matroska;codecs=avc1",
    "video/mp4;codecs=avc1.64001f",
    "video/mp4",
)
"""What Chromium's MediaRecorder offers: WebM (VP8, VP9), Matroska with H.264 (Constrained
Baseline), MP4 with H.264 High when asked for it, and MP4 with VP9 when no codec is named."""

_RECORD = """async ({mime, seconds}) => {
  const stream = await navigator.mediaDevices.getUserMedia(
    {video: {width: {ideal: 1280}, height: {ideal: 720}}, audio: false});
  const recorder = new MediaRecorder(stream, {mimeType: mime});
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(500);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  recorder.stop();
  await stopped;
  stream.getTracks().forEach((track) => track.stop());
  const bytes = new Uint8Array(await new Blob(chunks, {type: mime}).arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}"""


class _BlankPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>recorder</title>")

    def log_message(self, *args: object) -> None:
        return


@contextmanager
def secure_blank_page() -> Iterator[str]:
    """The URL of an empty page on 127.0.0.1: a secure context, where getUserMedia works."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BlankPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def record_in_chromium(page: Page, mime: str, seconds: float = 2.0) -> bytes:
    """``seconds`` of the fake camera recorded by MediaRecorder as ``mime``, in ``page`` (on a
    secure origin, in a Chromium started with the fake camera)."""
    encoded: str = page.evaluate(_RECORD, {"mime": mime, "seconds": seconds})
    return base64.b64decode(encoded)
