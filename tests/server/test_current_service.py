"""``bentoml.get_current_service()`` in a mounted FastAPI app of a 1.2 class with APIs: the API
server's proxy calls the instance in its runner worker."""

from __future__ import annotations

import textwrap

import httpx
import pytest

from bentotui.service.current import ServiceProxy
from tests.helpers.server import serve

SERVICE = textwrap.dedent("""
    import os

    from fastapi import Depends, FastAPI

    import bentotui as bentoml

    app = FastAPI()


    @bentoml.service
    @bentoml.mount_asgi_app(app, path="/web")
    class Shop:
        currency = "EUR"

        def __init__(self):
            self.prices = {"tea": 3}

        @bentoml.api
        def price(self, item: str) -> dict:
            return {"item": item, "price": self.prices.get(item), "pid": os.getpid()}

        @bentoml.api
        async def echo(self, text: str) -> str:
            return text

        @app.get("/quote/{item}")
        def quote(self, item: str):  # a route method: self is the served service
            return {**self.price(item=item), "currency": self.currency, "server": os.getpid()}


    @app.get("/shout/{text}")
    async def shout(text: str, service=Depends(bentoml.get_current_service)):
        return (await service.echo(text=text)).upper()


    @app.get("/secret")
    def secret(service=Depends(bentoml.get_current_service)):
        return service.prices
""")


def test_mounted_routes_reach_the_instance_in_its_worker(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE)
    with serve("service.py:Shop", cwd=tmp_path) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        quote = http.get("/web/quote/tea").json()
        assert quote["price"] == 3 and quote["currency"] == "EUR"
        assert quote["pid"] != quote["server"] == srv.pid  # the method ran in the runner worker
        assert http.get("/web/shout/hi").json() == "HI"
        assert http.get("/web/secret").status_code == 500  # an instance attribute: not here
        assert "attributes set in __init__ live in the runner worker" in srv.log_text()


def test_the_proxy_names_what_lives_in_the_worker():
    class Plain:
        kind = "demo"

    proxy = ServiceProxy(Plain, runner=None, api_attrs=set())  # type: ignore[arg-type]
    assert proxy.kind == "demo"
    with pytest.raises(AttributeError, match=r"Plain.model is not a class attribute or @api method"):
        proxy.model  # noqa: B018
