"""The server gives the memory of a burst of large decodes back to the system."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from pointcare.serving.malloc import huge_pages_environment, huge_pages_here
from tests.support.server import LiveServer
from tests.support.tools import REPO_ROOT, corpus

_BURST = textwrap.dedent(
    """
    import json, re, sys, threading
    from pathlib import Path
    from pointcare.imaging.photo import keep_image_memory, normalise_photo
    from pointcare.serving.malloc import give_back_large_buffers

    def rss_mb():
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmRSS:\\s+(\\d+)", status)[1]) // 1024

    keep_image_memory(2)  # as the server does: Pillow keeps some blocks either way
    applied = give_back_large_buffers(2) if sys.argv[1] == "apply" else {}
    photos = [Path(p).read_bytes() for p in sys.argv[2:]]
    before = rss_mb()
    slots = threading.Semaphore(2)

    def decode(index):
        with slots:
            normalise_photo(photos[index % len(photos)], max_pixels=64_000_000)

    threads = [threading.Thread(target=decode, args=(i,)) for i in range(8 if photos else 0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"applied": applied, "kept_mb": rss_mb() - before}))
    """
)


def _burst(mode: str, photos: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    """Eight photos normalised two at a time in a fresh interpreter: the settings, what it kept."""
    result = subprocess.run(
        [sys.executable, "-c", _BURST, mode, *photos],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "backend"), **(env or {})},
    )
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc")
def test_a_burst_of_heic_decodes_is_given_back() -> None:
    iphone = sorted(str(p) for p in corpus("photos", "heic").glob("*.heic"))
    default = _burst("default", iphone)
    applied = _burst("apply", iphone)

    assert applied["applied"] == {"MALLOC_ARENA_MAX": 2, "MALLOC_MMAP_THRESHOLD_": 4194304}
    kept, kept_by_default = applied["kept_mb"], default["kept_mb"]
    assert isinstance(kept, int) and isinstance(kept_by_default, int)
    # Measured here: about 150 MB kept (mostly Pillow's reused blocks) against about 400.
    assert kept < kept_by_default - 100, (kept, kept_by_default)


def test_glibcs_own_settings_win() -> None:
    applied = _burst("apply", [], {"MALLOC_ARENA_MAX": "8"})["applied"]
    assert applied == {"MALLOC_MMAP_THRESHOLD_": 4194304}


HUGE_PAGES = "glibc.malloc.hugetlb=1"
MADVISE = "always [madvise] never\n"


@pytest.mark.parametrize(
    ("environ", "glibc", "offered", "tunables"),
    [
        ({}, "glibc 2.36", MADVISE, HUGE_PAGES),
        ({}, "glibc 2.35", MADVISE, HUGE_PAGES),
        (
            {"GLIBC_TUNABLES": "glibc.malloc.tcache_count=0"},
            "glibc 2.39",
            MADVISE,
            f"glibc.malloc.tcache_count=0:{HUGE_PAGES}",
        ),
        # The operator's choice, or the start before this one, wins: no second start.
        ({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}, "glibc 2.36", MADVISE, None),
        ({"GLIBC_TUNABLES": f"glibc.malloc.arena_max=2:{HUGE_PAGES}"}, "glibc 2.36", MADVISE, None),
        ({}, "glibc 2.34", MADVISE, None),  # the tunable does not exist yet
        ({}, "glibc 2.36", "always madvise [never]\n", None),  # the kernel offers none
        ({}, "glibc 2.36", "[always] madvise never\n", None),  # used already, unasked
        ({}, "glibc 2.36", None, None),  # no transparent huge pages at all
        ({}, None, MADVISE, None),  # not glibc (musl)
        ({}, "glibc unknown", MADVISE, None),
    ],
)
def test_huge_pages_are_asked_for_once_where_glibc_and_the_kernel_offer_them(
    environ: dict[str, str], glibc: str | None, offered: str | None, tunables: str | None
) -> None:
    wanted = huge_pages_environment(
        {"PATH": "/usr/bin", **environ}, glibc=glibc, transparent_huge_pages=offered
    )
    if tunables is None:
        assert wanted is None
    else:
        assert wanted == {"PATH": "/usr/bin", "GLIBC_TUNABLES": tunables}


def test_the_server_runs_with_what_this_machine_offers(tmp_path: Path) -> None:
    """``pointcare serve`` as deployed: started again with huge pages where they are offered,
    the same process id (a service manager sees no change), and serving."""
    environ = {key: value for key, value in os.environ.items() if key != "GLIBC_TUNABLES"}
    wanted = huge_pages_here(environ)
    with LiveServer(data_dir=tmp_path, env={"GLIBC_TUNABLES": ""}) as server:
        served = dict(
            line.split("=", 1)
            for line in Path(f"/proc/{server.pid}/environ").read_text().split("\0")
            if "=" in line
        )
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert served.get("GLIBC_TUNABLES") == (wanted or {}).get("GLIBC_TUNABLES", "")
