"""How to start another copy of this program.

Worker processes and servers started by the TUI re-invoke the running program rather than a
``python`` found on PATH, so the PyInstaller bundle (where ``sys.executable`` is the bundle
itself) behaves exactly like a virtual environment.

Also the temporary folders a process owns by pid (worker sockets), so that a later process can
sweep the ones a crashed owner left behind.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import tempfile


def is_frozen() -> bool:
    """True inside a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def self_command() -> list[str]:
    """The argv prefix that runs ``bentotui`` again (append a subcommand and its options)."""
    if is_frozen():
        return [sys.executable]
    return [sys.executable, "-m", "bentotui"]


# A pid's start time (psutil) is only exact to about a second; a folder's owner started before it.
_START_TIME_SLACK_S = 2.0


def owned_temp_dir(prefix: str) -> str:
    """A new private folder in the system temp dir, ``<prefix><pid>-<random>``.

    The pid in the name lets :func:`sweep_owned_temp_dirs` tell, at a later start, whether the
    process that made the folder is gone (a process killed with SIGKILL removes nothing).
    """
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")


def sweep_owned_temp_dirs(prefix: str) -> list[str]:
    """Remove the :func:`owned_temp_dir` folders of ``prefix`` whose process is gone; returns them.

    Only this user's real folders (no links) are touched.  The owner is gone when its pid is not
    running, is a zombie, or now belongs to a process started after the folder last changed (a
    reused pid: the owner made and filled the folder after it started).  Folders that cannot be
    judged are kept.
    """
    import psutil  # the CLI's import path stays light: this runs once per server start

    pattern = re.compile(re.escape(prefix) + r"(\d+)-[^/]+\Z")
    removed: list[str] = []
    root = tempfile.gettempdir()
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
                continue
            proc = psutil.Process(int(match.group(1)))
            if proc.status() != psutil.STATUS_ZOMBIE and proc.create_time() <= st.st_mtime + _START_TIME_SLACK_S:
                continue  # its owner (or a process that could be it) still runs
        except psutil.NoSuchProcess:
            pass
        except (OSError, psutil.Error):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed
