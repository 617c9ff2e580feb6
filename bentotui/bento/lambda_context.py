"""``bentotui deploy lambda``: a container-image build context that runs a bento on AWS Lambda.

The context (``docker build`` it, push the image to ECR, create the function from it)::

    Dockerfile          on the AWS Lambda Python base image of the bento's Python
    requirements.txt    the bento's pinned env/python/requirements.txt
    wheels/             bentotui itself, as a wheel built from the installed source
    lambda_function.py  the handler (CMD ["lambda_function.handler"]): see below
    bento/              the bento, without its models/
    home/models/        the bento's models, laid out as a model store

The models move out of the bento into a ready model store because Lambda's file system is
read-only outside ``/tmp``: serving a bento imports the models it carries into the store, and an
image that has them there already copies nothing at cold start (and holds them once, not twice).
They are imported as serving a bento imports them: checked against their manifests and recorded
as trusted, since the user deploys this bento.  ``bento/bento.yaml`` still lists the model files,
so the copy in the image is only served, never exported or verified again.  Nothing of the store
is written at run time (its listing cache is best effort), so ``/var/task`` may stay read-only.

``lambda_function.py`` is generated, not shipped: it composes :mod:`bentotui.bento.lambda_handler`
(this layer) with ``bentotui.server.app.create_app`` (the layer above), which no module of
``bentotui/bento`` may import.  It reads the options ``serve`` reads from the environment
(``BENTOTUI_ALLOWED_HOSTS``, default any host: the front door is API Gateway or the function URL,
not a loopback port a web page could rebind; ``BENTOTUI_CORS_ORIGINS``).

The context is written through :func:`bentotui.bento.containerize.write_context` (the same
verification, copy and wheel) into a temporary sibling and renamed into place, so an interrupted
run leaves no half context.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bentotui.bento.containerize import CONTEXT_STEPS, staged_output, write_context
from bentotui.bento.requirements import TORCH_CPU_INDEX
from bentotui.exceptions import BuildError
from bentotui.store.bentos import Bento, BentoStore
from bentotui.store.models import ModelStore
from bentotui.store.tags import Tag

#: Pythons AWS publishes Lambda base images for (public.ecr.aws/lambda/python) that bentotui runs on
LAMBDA_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
BASE_IMAGE = "public.ecr.aws/lambda/python"
TASK_ROOT = "/var/task"  # ${LAMBDA_TASK_ROOT} of the base images
ENTRY_MODULE = "lambda_function"
HANDLER = f"{ENTRY_MODULE}.handler"
#: steps :func:`write_lambda_context` reports
LAMBDA_STEPS = CONTEXT_STEPS + 1

ENTRY_TEMPLATE = '''\
"""AWS Lambda entry point of bento {tag}, written by `bentotui deploy lambda`.

Cold start (once per container): import the bento's service from ./bento with its models from the
store in ./home, bind its runners in-process and build the ASGI app `bentotui serve` serves; the
handler then turns each API Gateway HTTP API or function URL event (payload format 2.0) into one
request to that app.  See bentotui/bento/lambda_handler.py.
"""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("BENTOTUI_HOME", str(HERE / "home"))

from bentotui.bento.lambda_handler import cold_start  # noqa: E402
from bentotui.server.app import create_app  # noqa: E402
from bentotui.server.options import ServeOptions  # noqa: E402

# serve's options and checks; the front door is AWS's, so any Host unless the environment says
OPTIONS = ServeOptions(
    target=str(HERE / "bento"),
    host="0.0.0.0",
    allowed_hosts=tuple(os.environ.get("BENTOTUI_ALLOWED_HOSTS", "*").split()),
    cors_origins=tuple(os.environ.get("BENTOTUI_CORS_ORIGINS", "").split()),
)


def make_app(service):
    return create_app(
        service, None, max_body=OPTIONS.max_body, timeout=OPTIONS.timeout, read_timeout=OPTIONS.read_timeout,
        host=OPTIONS.host, allowed_hosts=OPTIONS.allowed_hosts, cors_origins=OPTIONS.cors_origins,
    )


handler = cold_start(HERE / "bento", make_app, max_body=OPTIONS.max_body)
'''


@dataclass
class LambdaContext:
    """A written Lambda build context, the command that builds its image, and what to know."""

    context: Path
    image: str
    build_command: list[str]
    notes: list[str] = field(default_factory=list)


def lambda_python(version: str) -> str:
    """The base image's Python for a bento built under ``version`` (``3.11`` or ``3.11.7``)."""
    minor = ".".join(version.split(".")[:2])
    if minor not in LAMBDA_PYTHONS:
        raise BuildError(
            f"the bento is built for Python {version or '(unknown)'}, and AWS Lambda has base images "
            f"for Python {', '.join(LAMBDA_PYTHONS)} only; rebuild it under one of them"
        )
    return minor


def render_lambda_dockerfile(python: str, requirements_txt: str, env: dict[str, str]) -> str:
    """The Dockerfile of the Lambda image: requirements, the bentotui wheel, the store, the bento, the handler."""
    torch_index = f" --extra-index-url {TORCH_CPU_INDEX}" if "\ntorch==" in f"\n{requirements_txt}" else ""
    lines = [
        "# Built by bentotui: `docker build -t NAME:VERSION-lambda .` in the context `bentotui deploy lambda` writes.",
        f"FROM {BASE_IMAGE}:{python}",
        "",
        "ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \\",
        f"    BENTOTUI_HOME={TASK_ROOT}/home",
        "COPY requirements.txt /tmp/bentotui/requirements.txt",
        f"RUN pip install{torch_index} -r /tmp/bentotui/requirements.txt",
        "COPY wheels/ /tmp/bentotui/wheels/",
        "RUN pip install --no-deps /tmp/bentotui/wheels/*.whl && rm -rf /tmp/bentotui",
        "",
        f"COPY home/ {TASK_ROOT}/home/",
        f"COPY bento/ {TASK_ROOT}/bento/",
        f"COPY {ENTRY_MODULE}.py {TASK_ROOT}/",
    ]
    if env:
        lines.append("ENV " + " ".join(f"{k}={json.dumps(v)}" for k, v in env.items()))
    lines += [f"CMD {json.dumps([HANDLER])}", ""]
    return "\n".join(lines)


def write_lambda_context(
    tag: str | Tag, output: Path, *, on_step: Callable[[str], None] | None = None
) -> LambdaContext:
    """Write the Lambda build context of bento ``tag`` to ``output`` (a new or empty folder)."""
    step = on_step or (lambda _description: None)
    output, staging = staged_output(output)
    try:
        ctx = write_context(tag, staging / "context", on_step=step).context
        step("writing the Lambda image files")
        result = _make_lambda_context(ctx)
        if output.exists():
            output.rmdir()
        os.rename(ctx, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result.context = output
    result.build_command = ["docker", "build", "--platform", "linux/amd64", "-t", result.image, str(output)]
    return result


def _move_models_to_store(bento: Bento, store_root: Path) -> None:
    """Import the bento's models into the store at ``store_root`` and drop them from the bento.

    Through the store's folder import, as serving a bento does (``serving.ensure_models``): each
    model is checked against its manifest and recorded as trusted, brought in by the bento the
    user chose to deploy, so its pickled files load at cold start without ``models trust``.
    """
    store = ModelStore(root=store_root)
    store_root.mkdir(parents=True, exist_ok=True)
    for entry in bento.info.models:
        store.items.import_folder(entry.tag.path_in(bento.path / "models"))
    shutil.rmtree(bento.path / "models", ignore_errors=True)


def _make_lambda_context(ctx: Path) -> LambdaContext:
    """Turn containerize's context in ``ctx`` into the Lambda one (see the module docstring)."""
    bento = BentoStore(root=ctx).read_folder(ctx / "bento")
    docker = bento.info.docker
    python = lambda_python(str(docker.get("python_version") or bento.info.python_version))
    (ctx / "home" / "bentos").mkdir(parents=True)  # the store's folders exist: nothing is made at run time
    _move_models_to_store(bento, ctx / "home" / "models")
    requirements = (ctx / "requirements.txt").read_text(encoding="utf-8")
    env = {str(k): str(v) for k, v in (docker.get("env") or {}).items()}
    (ctx / "Dockerfile").write_text(render_lambda_dockerfile(python, requirements, env), encoding="utf-8")
    (ctx / f"{ENTRY_MODULE}.py").write_text(ENTRY_TEMPLATE.format(tag=bento.tag), encoding="utf-8")
    notes = []
    if docker.get("base_image"):
        notes.append(f"docker.base_image ({docker['base_image']}) is not used: a Lambda image starts from {BASE_IMAGE}:{python}")
    system_packages = list(docker.get("system_packages") or [])
    if system_packages:
        notes.append(
            f"docker.system_packages ({', '.join(system_packages)}) are not installed: they are Debian "
            "packages and the Lambda base image is Amazon Linux; add a `RUN dnf install -y ...` with "
            "their Amazon Linux names to the Dockerfile if the bento needs them"
        )
    image = f"{bento.tag.name}:{bento.tag.version}-lambda"
    return LambdaContext(context=ctx, image=image, build_command=[], notes=notes)
