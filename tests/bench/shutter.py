"""Shutter-to-stored at the bedside, in a real Chromium over an emulated ward network.

The bedside capture page of a ``pointcare serve --demo`` runs in Chromium (a Pixel 7's screen)
whose camera is Chromium's fake device playing a Y4M file: one raw (YUV 4:2:0) frame of a real
phone photo cut to ``FRAME`` pixels, as a camera hands the browser its frames. "The camera's own
JPEG" is that frame, exactly as the page's canvas draws it, encoded once by libjpeg at the page's
quality (92), 4:2:0: the page's photo must not be larger (no re-encode that grows it). The page
takes the photo as the nurse does: shutter, the preview with its tags, Send. Before each profile
the network is shaped through the DevTools protocol (``Network.emulateNetworkConditions``:
upload throughput and the round-trip latency; Chromium adds that latency once per request).

Timed in the page itself (``performance.now()`` at the tap, caught before the page's own
handlers, and a MutationObserver for what the page shows):

- shutter to preview: the tap on "Take photo" to the preview decoded in the tag sheet (the page
  draws the video frame on a canvas and encodes it as JPEG; then the sheet opens);
- Send to stored: the tap on "Send photo" to the queue's row saying "Stored" (the upload, the
  server's ingest, its 201 answer).

The floor of Send to stored is the bytes sent over the upload bandwidth plus two round trips;
the bytes are the request's body (``Content-Length`` as Chromium sent it, from the DevTools
protocol's Network events) plus its headers.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.report import Verdict, cell, summary, unmeasured
from tests.support.tools import CORPUS_DIR

FRAME = (1920, 1080)
"""The fake camera's frame: what Chromium's getUserMedia gives a phone's back camera at most in
many Android browsers (the page asks for 4096 x 3072 and takes the highest the track offers)."""
CAMERA_QUALITY = 92
SOURCE_PHOTO = CORPUS_DIR / "photos" / "phone" / "jolla.jpg"
PATIENT = "PC100006"
CHROMIUM = "/usr/bin/chromium"


@dataclass(frozen=True)
class Profile:
    name: str
    up_mbit_s: float
    rtt_ms: float

    @property
    def up_bytes_s(self) -> float:
        return self.up_mbit_s * 1_000_000 / 8

    def floor_ms(self, sent_bytes: int) -> float:
        """Bytes over the bandwidth plus two round trips."""
        return sent_bytes / self.up_bytes_s * 1000 + 2 * self.rtt_ms


PROFILES = (Profile("ward_wifi", 20, 40), Profile("poor", 3, 150))
KEY = "shutter_to_stored"
TARGET = 1.2
"""Send to stored at most this many times the floor."""


# Caught in the capture phase, before the page's own handlers; what the page shows is watched
# with a MutationObserver, whose callbacks run right after the change (no polling).
INSTRUMENT = """
(() => {
  const marks = { taps: [], previews: [], stored: [], jpegs: [] };
  window.__shutterBench = marks;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (body) {
    const file = body instanceof FormData ? body.get("file") : null;
    if (file instanceof Blob) marks.jpegs.push([file.type, file.size]);
    return send.call(this, body);
  };
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target && target.closest("[data-shutter]")) marks.taps.push(["shutter", performance.now()]);
    if (target && target.closest("[data-tag-apply]")) marks.taps.push(["send", performance.now()]);
  }, true);
  const seen = new WeakSet();
  new MutationObserver(() => {
    const now = performance.now();
    document.querySelectorAll(".queue-item[data-state=stored]").forEach((row) => {
      if (!seen.has(row)) { seen.add(row); marks.stored.push(now); }
    });
    document.querySelectorAll("[data-tag-sheet] img").forEach((img) => {
      if (!seen.has(img)) {
        seen.add(img);
        img.decode().then(() => marks.previews.push(performance.now()), () => {});
      }
    });
  }).observe(document, { subtree: true, childList: true, attributes: true,
                         attributeFilter: ["data-state", "src"] });
})();
"""


def camera_video(folder: Path) -> Path:
    """The fake camera's Y4M file: one raw frame of a real phone photo, which Chromium loops.

    A camera hands the browser raw frames (YUV 4:2:0, video range), never a JPEG: so does the
    fake one playing this file. Chromium reads Y4M as BT.601 video range, so the photo's full
    range YCbCr is brought to 16-235 (luma) and 16-240 (chroma) and the page sees the photo as
    it is, not with its shadows and highlights clipped."""
    from PIL import Image, ImageOps

    with Image.open(SOURCE_PHOTO) as photo:
        picture = ImageOps.fit(ImageOps.exif_transpose(photo).convert("RGB"), FRAME)
    luma, blue, red = picture.convert("YCbCr").split()
    half = (FRAME[0] // 2, FRAME[1] // 2)
    luma = luma.point(lambda y: 16 + round(y * 219 / 255))
    blue, red = (
        plane.resize(half, Image.Resampling.BOX).point(lambda c: 128 + round((c - 128) * 224 / 255))
        for plane in (blue, red)
    )
    header = f"YUV4MPEG2 W{FRAME[0]} H{FRAME[1]} F30:1 Ip A1:1 C420jpeg\n".encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"camera-{FRAME[0]}x{FRAME[1]}.y4m"
    path.write_bytes(header + b"FRAME\n" + luma.tobytes() + blue.tobytes() + red.tobytes())
    return path


PAGE_FRAME = """async () => {
  const video = document.querySelector("[data-camera-video]");
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}"""


def page_frame(page: Any) -> bytes:
    """The camera's frame exactly as the page's canvas draws it, losslessly (PNG)."""
    return base64.b64decode(page.evaluate(PAGE_FRAME))


def camera_jpeg(frame: bytes) -> bytes:
    """A frame encoded once by libjpeg (Pillow) at the page's quality, 4:2:0."""
    from PIL import Image

    with Image.open(io.BytesIO(frame)) as picture:
        buffer = io.BytesIO()
        picture.convert("RGB").save(buffer, "JPEG", quality=CAMERA_QUALITY, subsampling="4:2:0")
    return buffer.getvalue()


class Uploads:
    """The photo uploads Chromium sent, from the DevTools protocol's Network events."""

    def __init__(self, session: Any) -> None:
        self.requests: dict[str, dict[str, Any]] = {}
        self.methods: list[str] = []
        session.on("Network.requestWillBeSent", self._sent)
        session.on("Network.requestWillBeSentExtraInfo", self._headers)
        session.on("Network.responseReceived", self._answered)

    def _answered(self, event: dict[str, Any]) -> None:
        if event["requestId"] in self.requests and event["response"].get("timing"):
            timing = event["response"]["timing"]
            # From the request fully sent to the answer's headers: the server's own time
            # plus the emulated latency.
            self.requests[event["requestId"]]["waited_ms"] = (
                timing["receiveHeadersEnd"] - timing["sendEnd"]
            )

    def _sent(self, event: dict[str, Any]) -> None:
        request = event["request"]
        self.methods.append(f"{request['method']} {request['url']}")
        if request["method"] == "POST" and request["url"].endswith("/photos"):
            self.requests.setdefault(event["requestId"], {})["url"] = request["url"]

    def _headers(self, event: dict[str, Any]) -> None:
        self.requests.setdefault(event["requestId"], {})["headers"] = event["headers"]

    def others(self) -> list[str]:
        """The other requests since the last call: from the shutter tap to stored."""
        seen, self.methods = self.methods, []
        return [line for line in seen if not line.startswith(("POST ", "GET blob:"))]

    def take(self) -> list[tuple[int, float]]:
        """Each photo upload since the last call: its bytes (body and header lines), and the
        milliseconds from its last byte sent to the answer's headers."""
        sizes = []
        for request_id, request in list(self.requests.items()):
            headers = request.get("headers")
            if "url" not in request or headers is None:
                continue
            length = next(int(v) for k, v in headers.items() if k.lower() == "content-length")
            header_bytes = sum(len(k) + len(str(v)) + 4 for k, v in headers.items())
            line = len(f"POST {request['url']} HTTP/1.1\r\n")
            sizes.append((length + header_bytes + line, request.get("waited_ms", float("nan"))))
            del self.requests[request_id]
        return sizes


def measure(rounds: int, work: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """``rounds`` photos per profile, taken, tagged and sent on the bedside page."""
    if not Path(CHROMIUM).exists():
        return {"status": "not measured", "why": f"needs {CHROMIUM}"}
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, FAKE_CAMERA_ARGS, PASSWORDS
    from tests.support.server import LiveServer, live_env

    video = camera_video(work / "camera")
    out: dict[str, Any] = {
        "camera": {
            "fake_device": f"Chromium's fake camera playing {video.name}: {FRAME[0]}x{FRAME[1]}",
            "camera_jpeg": "the frame as the page's canvas draws it (read back as PNG), "
            f"encoded once by Pillow (libjpeg) at quality {CAMERA_QUALITY}, 4:2:0; the frame "
            f"is {SOURCE_PHOTO.name} cut to {FRAME[0]}x{FRAME[1]}",
            "page_encoding": "the video frame drawn on a canvas of the frame's size, "
            "canvas.toBlob('image/jpeg', 0.92)",
        },
        "rounds": rounds,
        "timed_from": "the Send tap on the preview (shutter to preview reported apart)",
    }
    with (
        LiveServer(demo=True, env=live_env()) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_ARGS,
                *FAKE_CAMERA_ARGS,
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        try:
            context = browser.new_context(**playwright.devices["Pixel 7"])
            page = context.new_page()
            page.add_init_script(INSTRUMENT)
            page.goto(server.url + "/login")
            page.get_by_label("User name").fill("nurse")
            page.get_by_label("Password").fill(PASSWORDS["nurse"])
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{server.url}/")
            page.goto(f"{server.url}/bedside/confirm?mrn={PATIENT}")
            page.get_by_role("button", name="This is the patient").click()
            for choice in ("clinical-yes", "teaching-no", "publication-no", "method-verbal"):
                page.locator(f"label[for=consent_{choice}]").click()
            page.get_by_role("button", name="Start photographing").click()
            shutter = page.get_by_role("button", name="Take photo")
            expect(shutter).to_be_enabled(timeout=30_000)
            size = page.locator("[data-camera-video]").evaluate(
                "v => [v.videoWidth, v.videoHeight]"
            )
            out["camera"]["video_track"] = f"{size[0]}x{size[1]}"
            out["camera"]["camera_jpeg_bytes"] = len(camera_jpeg(page_frame(page)))
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            uploads = Uploads(cdp)
            sheet = page.locator("[data-tag-sheet]")

            def one_photo(first: bool) -> tuple[dict[str, Any], int, float]:
                """Shutter, preview, Send, stored: the page's marks, the bytes sent, and the
                wait from the last byte sent to the answer."""
                stored_before = page.locator(".queue-item[data-state=stored]").count()
                expect(shutter).to_be_enabled(timeout=30_000)
                shutter.click()
                expect(sheet).to_be_visible(timeout=30_000)
                if first:  # tags carry over to the next photo: one tap on Send from then on
                    sheet.locator("#map-front").get_by_role(
                        "button", name="Right forearm, front", exact=True
                    ).click()
                    sheet.locator("label[for=tag-view-close-up]").click()
                page.wait_for_function("() => window.__shutterBench.previews.length > 0")
                sheet.get_by_role("button", name="Send photo").click()
                expect(page.locator(".queue-item[data-state=stored]")).to_have_count(
                    stored_before + 1, timeout=60_000
                )
                marks: dict[str, Any] = page.evaluate(
                    "() => { const m = window.__shutterBench; const copy = "
                    "JSON.parse(JSON.stringify(m)); m.taps = []; m.previews = []; "
                    "m.stored = []; m.jpegs = []; return copy; }"
                )
                time.sleep(0.2)  # the last ExtraInfo event may trail the answer
                sent = uploads.take()
                if len(sent) != 1:
                    raise RuntimeError(f"expected one photo upload, saw {len(sent)}")
                if others := uploads.others():
                    out.setdefault("other_requests_shutter_to_stored", []).extend(others)
                return marks, *sent[0]

            # Untimed, the network not shaped: the server's first photo after its start also
            # loads what its ingest imports lazily, which a ward's long-running server has done.
            one_photo(first=True)
            out["warm_up"] = "one photo sent before the timed ones, the network not shaped"
            for profile in PROFILES:
                cdp.send(
                    "Network.emulateNetworkConditions",
                    {
                        "offline": False,
                        "latency": profile.rtt_ms,
                        "uploadThroughput": profile.up_bytes_s,
                        "downloadThroughput": profile.up_bytes_s,  # the answer is a small JSON
                    },
                )
                results: list[dict[str, float]] = []
                for _ in range(rounds):
                    marks, sent_bytes, waited_ms = one_photo(first=False)
                    taps = dict(marks["taps"])
                    elapsed = marks["stored"][0] - taps["send"]
                    floor = profile.floor_ms(sent_bytes)
                    results.append(
                        {
                            "bytes_sent": float(sent_bytes),
                            "answer_wait_ms": waited_ms,
                            "photo_jpeg_bytes": float(marks["jpegs"][0][1]),
                            "floor_ms": floor,
                            "send_to_stored_ms": elapsed,
                            "over_floor": elapsed / floor,
                            "shutter_to_preview_ms": marks["previews"][0] - taps["shutter"],
                        }
                    )
                    log(
                        f"  {profile.name}: {sent_bytes} bytes, send to stored {elapsed:.0f} ms "
                        f"(floor {floor:.0f}; answer {waited_ms:.0f} ms after the last byte), "
                        "shutter to preview "
                        f"{results[-1]['shutter_to_preview_ms']:.0f} ms"
                    )
                out[profile.name] = {
                    "up_mbit_s": profile.up_mbit_s,
                    "rtt_ms": profile.rtt_ms,
                    "loadavg_1_min_after": float(Path("/proc/loadavg").read_text().split()[0]),
                    **{key: summary([r[key] for r in results]) for key in results[0]},
                }
            cdp.send(
                "Network.emulateNetworkConditions",
                {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            )
        finally:
            browser.close()
    return out


def ratios(results: dict[str, Any]) -> dict[str, float]:
    block = results.get(KEY, {})
    return {
        f"shutter_send_to_stored_over_floor_{profile.name}": block[profile.name]["over_floor"][
            "median"
        ]
        for profile in PROFILES
        if profile.name in block
    }


def target_rows(results: dict[str, Any]) -> list[Verdict]:
    block = results.get(KEY, {})
    camera = block.get("camera", {}).get("camera_jpeg_bytes")
    rows: list[Verdict] = []
    for profile in PROFILES:
        figures = block.get(profile.name)
        target = (
            f"shutter to stored, {profile.name} ({profile.up_mbit_s:g} Mbit/s up, "
            f"{profile.rtt_ms:g} ms RTT): Send to stored <= {TARGET}x (bytes / bandwidth + 2 RTT)"
        )
        if not figures:
            rows.append((target, "-", None))
            continue
        ratio = figures["over_floor"]
        rows.append(
            (
                target,
                f"{ratio['median']:.2f}x ({ratio['min']:.2f}–{ratio['max']:.2f}); "
                f"{figures['send_to_stored_ms']['median']:.0f} ms against a floor of "
                f"{figures['floor_ms']['median']:.0f} ms",
                ratio["median"] <= TARGET,
            )
        )
    sent = [block[p.name]["bytes_sent"]["max"] for p in PROFILES if p.name in block]
    rows.append(
        (
            "shutter to stored: bytes sent per photo <= the camera's own JPEG of the frame",
            f"{max(sent):.0f} bytes sent, camera's JPEG {camera} bytes" if sent and camera else "-",
            max(sent) <= camera if sent and camera else None,
        )
    )
    return rows


def markdown_lines(results: dict[str, Any]) -> list[str]:
    block = results.get(KEY, {})
    title = "#### Shutter to stored (bedside page, Chromium, emulated network)"
    if (absent := unmeasured(title, block)) is not None:
        return absent
    camera = block["camera"]

    lines = [
        title,
        "",
        f"- camera: {camera['fake_device']}, track {camera.get('video_track', '?')}; the "
        f"camera's own JPEG: {camera.get('camera_jpeg_bytes', '?')} bytes "
        f"({camera['camera_jpeg']})",
        f"- the page's photo: {camera['page_encoding']}",
        f"- timed from {block['timed_from']}; {block['rounds']} photos per profile after "
        f"{block.get('warm_up', 'no warm-up')}; median (min–max); the load average is the "
        "machine's (1 min) after each profile",
        "",
        "| profile | bytes sent | photo JPEG bytes | floor ms | Send to stored ms | ratio "
        "| answer after last byte ms | shutter to preview ms | load average |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for profile in PROFILES:
        f = block.get(profile.name)
        if not f:
            continue
        lines.append(
            f"| {profile.name} ({profile.up_mbit_s:g} Mbit/s, {profile.rtt_ms:g} ms) "
            f"| {f['bytes_sent']['median']:.0f} | {f['photo_jpeg_bytes']['median']:.0f} "
            f"| {f['floor_ms']['median']:.0f} | {cell(f['send_to_stored_ms'])} "
            f"| {cell(f['over_floor'], 2)} | {cell(f['answer_wait_ms'])} "
            f"| {cell(f['shutter_to_preview_ms'])} | {f.get('loadavg_1_min_after', '?')} |"
        )
    if block.get("other_requests_shutter_to_stored"):
        lines.append(
            "- other requests from the shutter tap to stored (the preview included, blob: URLs "
            "left out): " + ", ".join(sorted(set(block["other_requests_shutter_to_stored"])))
        )
    return [*lines, ""]
