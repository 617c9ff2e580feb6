"""Cutting notebook cells down to what a service needs (the kernel end to end: tests/e2e/test_notebook.py)."""

from __future__ import annotations

import sys
import types

import pytest

from bentotui.exceptions import BuildError
from bentotui.service.notebook import global_name, needed_source, notebook_sources
from bentotui.service.source import is_notebook_service

CELLS = [
    "import bentotui as bentoml\nfrom bentotui.adapters import DataframeInput\nfrom sklearn import svm",
    "X = [[0.0], [1.0]]; y = [0, 1]\nclf = svm.SVC().fit(X, y)\nTHRESHOLD = 0.5",
    "def scale(df):\n    return df * THRESHOLD",
    "class Svc(bentoml.BentoService):\n"
    "    @bentoml.api(input=DataframeInput(), batch=True)\n"
    "    def predict(self, df):\n"
    "        clf = self.artifacts.model  # a local: the notebook's clf is not needed\n"
    "        return clf.predict(scale(df))",
    "svc = Svc()\nsvc.pack('model', clf)\nsvc.save()",
    "get_ipython().system('curl -X POST localhost:5000/predict')",
    "def broken(:\n",
    "runner = bentoml.models.get('iris:latest').to_runner()\napi_svc = bentoml.Service('iris', runners=[runner])\n\n\n"
    "@api_svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())\ndef classify(text):\n    return runner.run(text)\n"
    "api_svc.on_startup(print)\nprint(api_svc)",
]


def test_a_class_keeps_its_imports_helpers_and_constants_but_no_training():
    source = needed_source(CELLS, "Svc")
    compile(source, "notebook_cells.py", "exec")
    assert "class Svc" in source and "def scale" in source and "THRESHOLD = 0.5" in source
    assert "import bentotui as bentoml\nfrom bentotui.adapters import DataframeInput\n" in source
    for dropped in ("svm", ".fit(", "save()", "pack(", "curl", "broken"):
        assert dropped not in source


def test_a_1x_service_keeps_what_registers_onto_it():
    source = needed_source(CELLS, "api_svc")
    assert "runner = bentoml.models.get('iris:latest').to_runner()\napi_svc = bentoml.Service" in source
    assert "@api_svc.api(" in source and "api_svc.on_startup(print)" in source
    assert "print(api_svc)" not in source and "class Svc" not in source


def test_a_later_cell_redefining_a_name_wins():
    source = needed_source(["LIMIT = 1", "def f():\n    return LIMIT", "LIMIT = 2"], "f")
    assert "LIMIT = 2" in source and "LIMIT = 1" not in source


def test_a_name_no_cell_defines_is_a_build_error():
    with pytest.raises(BuildError, match="no notebook cell defines 'Missing'"):
        needed_source(CELLS, "Missing")


def test_outside_ipython_the_missing_source_is_explained(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    with pytest.raises(BuildError, match="no source file and is no IPython or Jupyter session"):
        notebook_sources("Svc")


def test_global_names_of_classes_and_objects(monkeypatch):
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    marker = object()
    main.svc = marker
    assert global_name(marker) == "svc"
    with pytest.raises(BuildError, match="is not assigned to a variable"):
        global_name(object())

    class Outer:
        class Inner:
            pass

    with pytest.raises(BuildError, match="is nested in another definition"):
        global_name(Outer.Inner)
    assert is_notebook_service(marker) and is_notebook_service("__main__:svc")
    assert not is_notebook_service("service.py:svc")
