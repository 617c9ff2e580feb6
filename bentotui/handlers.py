"""BentoML 0.x's older name for input adapters (``from bentoml.handlers import DataframeHandler``).

Releases before 0.8 called adapters handlers; the 0.13 gallery still imports them.  Each name is
the adapter it became (:mod:`bentotui.adapters`).
"""

from bentotui.adapters import DataframeInput, FileInput, ImageInput, JsonInput, StringInput

DataframeHandler = DataframeInput
JsonHandler = JsonInput
ImageHandler = ImageInput
FileHandler = FileInput
StringHandler = StringInput

__all__ = ["DataframeHandler", "FileHandler", "ImageHandler", "JsonHandler", "StringHandler"]
