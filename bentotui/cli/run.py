"""``bentotui run TAG API --input '...'``: call one API of a saved bento once, in this process.

BentoML 0.x's ``bentoml run IrisClassifier:latest predict --input '[[5, 4, 3, 2]]'`` (or
``--input-file bird.jpg``): no server is started; the API's output is printed as the server would
send it.  The logic is :func:`bentotui.service.bundle.call_api`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

app = typer.Typer()


@app.command("run")
def run_cmd(
    bento: str = typer.Argument(..., help="Bento tag (IrisClassifier:latest) or folder."),
    api_name: str = typer.Argument(..., help="The API to call, e.g. predict."),
    input_text: str = typer.Option(None, "--input", help="The request body, e.g. '[[5, 4, 3, 2]]'."),
    input_file: Path = typer.Option(None, "--input-file", help="A file whose bytes are the request body."),
) -> None:
    """Call an API of a bento once with the given input and print its output (no server)."""
    import mimetypes

    from bentotui.exceptions import InvalidArgument, NotFound
    from bentotui.service.bundle import call_api

    if (input_text is None) == (input_file is None):
        raise InvalidArgument("give the input as exactly one of --input TEXT or --input-file PATH")
    if input_file is not None:
        if not input_file.is_file():
            raise NotFound(f"--input-file {input_file}: no such file")
        body, content_type = input_file.read_bytes(), mimetypes.guess_type(input_file.name)[0]
    else:
        body, content_type = input_text.encode(), None
    response = call_api(bento, api_name, body, content_type)
    try:
        typer.echo(response.body.decode("utf-8"))
    except UnicodeDecodeError:  # an image or file output: the raw bytes, for a shell redirect
        sys.stdout.buffer.write(response.body)
