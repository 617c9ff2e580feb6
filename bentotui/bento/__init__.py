"""Bentos: a service, its source, its models and its environment as one versioned store item.

``bentofile.py`` reads ``bentofile.yaml``; ``build.py`` turns a service into a bento in the store;
``requirements.py`` pins the Python environment; ``serving.py`` serves a bento by tag or folder;
``containerize.py`` writes a self-contained Docker build context; ``k8s.py`` writes Kubernetes
manifests.  Nothing here imports an ML library or the server stack at import time.
"""
