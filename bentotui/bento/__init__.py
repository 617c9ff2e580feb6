"""Bentos: a service, its source, its models and its environment as one versioned store item.

``bentofile.py`` reads ``bentofile.yaml``; ``build.py`` turns a service into a bento in the store;
``requirements.py`` pins the Python environment; ``serving.py`` serves a bento by tag or folder;
``containerize.py`` writes a self-contained Docker build context; ``k8s.py`` writes Kubernetes
manifests (``--split-runners``: runners in their own Deployments); ``lambda_context.py`` writes an
AWS Lambda image context whose entry point serves events through ``lambda_handler.py``.  Nothing
here imports an ML library or the server stack at import time.
"""
