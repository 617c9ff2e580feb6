"""The HTTP server: a Quart app built from a Service, launched on hypercorn by ``bentotui serve``.

Only the ``serve`` command and worker-facing code import this package; the CLI's other commands,
the TUI and the client never do (it pulls in quart, hypercorn and prometheus_client).
"""
