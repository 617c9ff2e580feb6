"""BentoML's exception names: raised in an API, they answer with BentoML's HTTP status."""

from __future__ import annotations

import textwrap
from http import HTTPStatus

import httpx

from bentotui import exceptions
from bentotui.runner import codec
from tests.helpers.server import serve


def test_bentoml_names_are_our_classes_with_bentomls_statuses():
    assert exceptions.BentoMLException is exceptions.BentotuiError
    assert issubclass(exceptions.BadInput, exceptions.InvalidArgument)
    assert exceptions.InvalidArgument("x").error_code is HTTPStatus.BAD_REQUEST
    assert exceptions.NotFound("x").error_code is HTTPStatus.NOT_FOUND
    assert exceptions.UnprocessableEntity("x").error_code is HTTPStatus.UNPROCESSABLE_ENTITY
    assert exceptions.InternalServerError("x").error_code is HTTPStatus.INTERNAL_SERVER_ERROR


def test_error_code_overrides_the_status_of_one_error_and_crosses_a_worker():
    error = exceptions.BentoMLException("taken", error_code=HTTPStatus.CONFLICT)
    assert error.http_status == 409 and type(error).http_status == 500
    decoded = codec.decode_error(codec.encode_error(error))
    assert decoded.http_status == 409 and decoded.message == "taken"


SERVICES = textwrap.dedent("""
    from http import HTTPStatus

    import bentotui as bentoml
    from bentotui.exceptions import BentoMLException, NotFound

    svc = bentoml.Service(name="errors")

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    def lookup(body):
        raise NotFound(f"no user {body['id']}")

    @bentoml.service
    class Worker:
        @bentoml.api
        def claim(self, item: str) -> str:
            raise BentoMLException(f"{item} is taken", error_code=HTTPStatus.CONFLICT)
""")


def test_served_apis_answer_with_the_status_of_the_error_they_raise(tmp_path):
    (tmp_path / "service.py").write_text(SERVICES)
    with serve("service:svc", cwd=tmp_path) as srv:
        response = httpx.post(srv.url + "/lookup", json={"id": 7})
        assert response.status_code == 404 and response.json()["error"] == "no user 7"
    with serve("service:Worker", cwd=tmp_path) as srv:  # the method runs in a runner worker
        response = httpx.post(srv.url + "/claim", json={"item": "seat 4"})
        assert response.status_code == 409 and response.json()["error"] == "seat 4 is taken"
