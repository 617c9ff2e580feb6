"""The Dockerfile of a bento (``env/docker/Dockerfile``), for the build context ``containerize`` writes.

The context it expects (see :mod:`bentotui.bento.containerize`)::

    Dockerfile  requirements.txt  wheels/bentotui-*.whl  bento/

The image installs the pinned requirements, then bentotui from the wheel in the context (so it
never needs this repository or a package index that has bentotui), copies the bento, and runs
``bentotui serve .`` from the bento folder as a non-root user.  ``HEALTHCHECK`` uses Python's
urllib because slim images have no curl.
"""

from __future__ import annotations

import json
import shlex

from bentotui.bento.bentofile import DockerOptions
from bentotui.bento.requirements import TORCH_CPU_INDEX

APP_USER = "bentotui"
APP_UID = 1000
BENTO_DIR = f"/home/{APP_USER}/bento"
HOME_DIR = f"/home/{APP_USER}/home"


def entrypoint(port: int) -> list[str]:
    """The container's command: serve the bento in the working folder on every interface."""
    return ["bentotui", "serve", ".", "--host", "0.0.0.0", "--port", str(port)]


def render_dockerfile(docker: DockerOptions, port: int, requirements_txt: str) -> str:
    """The Dockerfile text for a bento served on ``port`` with these pinned requirements."""
    torch_index = f" --extra-index-url {TORCH_CPU_INDEX}" if "\ntorch==" in f"\n{requirements_txt}" else ""
    lines = [
        "# Built by bentotui: `docker build -t NAME:VERSION .` in the context `bentotui containerize` writes.",
        f"FROM {docker.image}",
        "",
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \\",
        f"    BENTOTUI_HOME={HOME_DIR}",
    ]
    if docker.system_packages:
        packages = " ".join(shlex.quote(p) for p in docker.system_packages)
        lines += [
            "RUN apt-get update \\",
            f"    && apt-get install -y --no-install-recommends {packages} \\",
            "    && rm -rf /var/lib/apt/lists/*",
        ]
    lines += [
        f"RUN useradd --create-home --uid {APP_UID} --user-group --shell /usr/sbin/nologin {APP_USER}",
        "",
        "COPY requirements.txt /tmp/bentotui/requirements.txt",
        f"RUN pip install{torch_index} -r /tmp/bentotui/requirements.txt",
        "COPY wheels/ /tmp/bentotui/wheels/",
        "RUN pip install --no-deps /tmp/bentotui/wheels/*.whl && rm -rf /tmp/bentotui",
        "",
        f"COPY --chown={APP_USER}:{APP_USER} bento/ {BENTO_DIR}/",
        f"USER {APP_UID}:{APP_UID}",
        f"WORKDIR {BENTO_DIR}",
    ]
    if docker.env:
        lines.append("ENV " + " ".join(f"{k}={json.dumps(v)}" for k, v in docker.env.items()))
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/healthz', timeout=3)"
    lines += [
        f"EXPOSE {port}",
        f"HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD {json.dumps(['python', '-c', probe])}",
        f"ENTRYPOINT {json.dumps(entrypoint(port))}",
        "",
    ]
    return "\n".join(lines)
