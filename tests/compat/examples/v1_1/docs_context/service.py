"""BentoML 1.1 docs/source/concepts/service.rst, "Inference context" and "Lifecycle hooks"."""

import numpy as np

import bentotui as bentoml
from bentotui.io import NumpyNdarray

runner = bentoml.sklearn.get("iris_clf:latest").to_runner()

svc = bentoml.Service("iris_context", runners=[runner])


class _FakeDB:
    """Stands in for the docs' database connection."""

    def __init__(self):
        self.closed = False

    async def close(self):
        self.closed = True


async def get_db_connection():
    return _FakeDB()


@svc.on_startup
async def connect_db_on_startup(context: bentoml.Context):
    context.state["db"] = await get_db_connection()
    # ctx.request  # this will raise an error because no request has been served yet.


@svc.on_shutdown
async def close_db_on_shutdown(context: bentoml.Context):
    await context.state["db"].close()


@svc.api(
    input=NumpyNdarray(),
    output=NumpyNdarray(),
)
def predict(input_array: np.ndarray, ctx: bentoml.Context) -> np.ndarray:
    # Get request headers
    request_headers = ctx.request.headers
    assert "content-type" in request_headers

    result = runner.run(input_array)

    # Set response headers, cookies, and status code
    ctx.response.status_code = 202
    ctx.response.cookies = [
        bentoml.Cookie(
            key="key",
            value="value",
            max_age=None,
            expires=None,
            path="/predict",
            domain=None,
            secure=True,
            httponly=True,
            samesite="None",
        )
    ]

    # Add a custom header to the response
    ctx.response.headers.append("X-Custom-Header", "value")

    return result


@svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())
def state(text: str, ctx: bentoml.Context) -> dict:
    # ctx.state is the per-worker dictionary the startup hook filled
    return {"db_open": not ctx.state["db"].closed, "echo": text}
