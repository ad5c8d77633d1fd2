"""Video clips: time to store a minute of video, and the bytes it takes in the archive.

    python -m tests.bench.clips [--seconds 60] [--repeat 1]

For each kind of clip a phone or a browser sends, a clip of ``--seconds`` is made once with
ffmpeg (cached in ``var/bench/clips/``) and converted by the server's own clip normaliser with
the default limits, then built into its DICOM object: the time of both (what a request waits
for before the object is written), whether it was transcoded and why, and the bytes stored per
minute. The CPU seconds ffmpeg spent are given too: on a shared machine the wall time grows
with the load (conversions run at a lower priority than requests), the CPU time does not.
The test pattern carries temporal noise, as a camera sensor does: without it a
synthetic picture compresses far better than any real scene.

Writes ``var/bench/clips.json`` and ``var/bench/clips.md``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from pointcare.capture.clips import clip_limits
from pointcare.dicom.modules import Equipment, SeriesContext, to_part10
from pointcare.dicom.uids import new_uid
from pointcare.dicom.video import build_video_photographic_image
from pointcare.settings import Settings
from pointcare.video.clip import ClipNormaliser
from pointcare.video.tools import VideoTools
from tests.bench.harness import OUT_DIR, machine
from tests.support import clips as made
from tests.support.clips import ClipFactory, ClipSpec
from tests.unit.dicom.test_photo import details, patient, study

MB = 1_000_000
NOISE = "noise=alls=6:allf=t"


def _x264_high(bitrate: str) -> tuple[str, ...]:
    return (
        "-c:v",
        "libx264",
        "-preset",
        "superfast",
        "-profile:v",
        "high",
        "-b:v",
        bitrate,
        "-pix_fmt",
        "yuv420p",
    )


def sources(seconds: int) -> dict[str, tuple[str, ClipSpec]]:
    """What each clip stands for, and how it is made (``seconds`` long, with camera noise)."""
    clip = partial(ClipSpec, seconds=seconds, filters=(NOISE,))
    return {
        "phone-h264-1080p": (
            "phone clip held level: H.264 High, 1080p30, 17 Mbit/s",
            clip(
                name=f"phone-h264-1080p-{seconds}s.mov",
                size=(1920, 1080),
                container="mov",
                codec=_x264_high("17M"),
            ),
        ),
        "phone-h264-1080p-portrait": (
            "the same held upright: a rotation flag",
            clip(
                name=f"phone-h264-1080p-portrait-{seconds}s.mov",
                size=(1920, 1080),
                container="mov",
                codec=_x264_high("17M"),
                rotate=90,
            ),
        ),
        "iphone-hevc-hdr-1080p": (
            "iPhone default: HEVC Main 10, HLG, 1080p30, portrait",
            clip(
                name=f"iphone-hevc-hdr-1080p-{seconds}s.mov",
                size=(1920, 1080),
                container="mov",
                rotate=90,
                # The tests' iPhone clip at a phone's bit rate, fast to make.
                codec=(*made.HEVC_HDR_MOV.codec, "-preset", "ultrafast", "-b:v", "10M"),
            ),
        ),
        "browser-vp9-720p": (
            "the bedside recorder in Chromium (WebM VP9, 720p30, 2.5 Mbit/s)",
            clip(
                name=f"browser-vp9-720p-{seconds}s.webm",
                size=(1280, 720),
                container="webm",
                codec=(
                    "-c:v",
                    "libvpx-vp9",
                    "-deadline",
                    "realtime",
                    "-cpu-used",
                    "8",
                    "-b:v",
                    "2500k",
                ),
            ),
        ),
        "browser-h264-720p": (
            "the bedside recorder where it may record MP4 with H.264 High (720p30, 2.5 Mbit/s)",
            clip(
                name=f"browser-h264-720p-{seconds}s.mp4",
                size=(1280, 720),
                container="mp4",
                codec=_x264_high("2500k"),
            ),
        ),
    }


def measure(normaliser: ClipNormaliser, path: Path, repeat: int) -> dict[str, Any]:
    upload = path.read_bytes()
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        clip = normaliser.normalise(upload)
        part10 = to_part10(
            build_video_photographic_image(
                clip=clip,
                patient=patient(),
                study=study(),
                series=SeriesContext(series_instance_uid=new_uid(), series_number=1),
                details=details(),
                equipment=Equipment(software_versions="bench"),
            )
        )
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime)
    minutes = clip.duration / 60
    return {
        "upload_mb": len(upload) / MB,
        "seconds_to_store": min(times),
        "seconds_all": times,
        "ffmpeg_cpu_seconds": min(cpu),
        "transcoded": clip.transcoded,
        "why": list(clip.transcode_reasons),
        "stored": f"{clip.columns}x{clip.rows} @ {float(clip.frame_rate):g} fps, level "
        f"{clip.level / 10:.1f}",
        "object_mb": len(part10) / MB,
        "stored_mb_per_minute": len(part10) / MB / minutes,
        "upload_mb_per_minute": len(upload) / MB / minutes,
        "duration": clip.duration,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.clips", description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=None, help="source names to run")
    args = parser.parse_args(argv)
    folder = OUT_DIR / "clips"
    folder.mkdir(parents=True, exist_ok=True)
    factory = ClipFactory(folder)
    # The server's limits, but time enough: on a shared machine a conversion waits for the cores
    # (it runs at a lower priority than requests), and the figure is what is wanted here.
    settings = Settings(video_convert_timeout_seconds=3600, video_queue_seconds=3600)
    normaliser = ClipNormaliser(VideoTools.find(), clip_limits(settings))
    results: dict[str, Any] = {"machine": machine(), "seconds": args.seconds, "clips": {}}
    for name, (what, spec) in sources(args.seconds).items():
        if args.only and name not in args.only:
            continue
        factory.make(spec)
        figures = measure(normaliser, folder / spec.name, args.repeat)
        results["clips"][name] = {"what": what, **figures}
        print(name, json.dumps(figures), flush=True)
    (OUT_DIR / "clips.json").write_text(json.dumps(results, indent=2))
    (OUT_DIR / "clips.md").write_text(markdown(results))
    return 0


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# Video clips: {results['seconds']} s each",
        "",
        "| clip | upload MB/min | stored MB/min | s to store | ffmpeg CPU s | transcoded "
        "| stored as |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in results["clips"].items():
        why = ", ".join(row["why"]) if row["transcoded"] else "no (kept)"
        lines.append(
            f"| {name}: {row['what']} | {row['upload_mb_per_minute']:.1f} | "
            f"{row['stored_mb_per_minute']:.1f} | {row['seconds_to_store']:.1f} | "
            f"{row['ffmpeg_cpu_seconds']:.1f} | {why} | "
            f"{row['stored']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
