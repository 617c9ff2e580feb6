"""Save the TUI screenshots of docs/tui.md: each fixed scene of ``tests/tui/scenes.py`` (the ones
the snapshot tests check) at 160x48 and at 80x24, as SVG under docs/img/.

    .venv/bin/python scripts/tui_screenshots.py        (from the repository root)

Runs on a throw-away ``BENTOTUI_HOME``; nothing is served or downloaded.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"": (160, 48), "-80x24": (80, 24)}


async def save(name: str, scene, size: tuple[int, int], folder: Path) -> Path:
    from tests.tui.scenes import make_app

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await scene(pilot)
        await pilot.pause(0.2)
        return Path(app.save_screenshot(f"{name}.svg", str(folder)))


async def main() -> None:
    from tests.tui import scenes

    work = Path(tempfile.mkdtemp(prefix="bentotui-shots-"))
    out = ROOT / "docs" / "img"

    async def show_log(pilot) -> None:
        await scenes.show_log(pilot, work)

    shots = {
        "tui-models": scenes.show_store,
        "tui-servers": scenes.show_servers,
        "tui-requests": scenes.show_requests,
        "tui-logs": show_log,
        "tui-stream": scenes.show_stream,
        "tui-tasks": scenes.show_tasks,
        "tui-batching": scenes.show_batching,
        "tui-predictions": scenes.show_predictions,
    }
    for name, scene in shots.items():
        for suffix, size in SIZES.items():
            print(await save(name + suffix, scene, size, out))


if __name__ == "__main__":
    os.environ["BENTOTUI_HOME"] = tempfile.mkdtemp(prefix="bentotui-shots-home-")
    sys.path.insert(0, str(ROOT))
    asyncio.run(main())
