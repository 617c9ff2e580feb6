"""Stand-in for ``diffusers.StableDiffusionPipeline`` (which downloads gigabytes of weights).

The surface the example uses: ``from_pretrained(path)``, ``save_pretrained(path)``,
``unet.load_attn_procs(lora_path)``, ``to(device)``, and a call returning ``(images, ...)``.
The "image" is a colour derived from the prompt, tinted by the LoRA adapter's weights.
"""

import hashlib
import json
from pathlib import Path

from PIL import Image


class _UNet:
    def __init__(self):
        self.lora = None

    def load_attn_procs(self, path):
        self.lora = json.loads((Path(path) / "adapter_config.json").read_text())


class StableDiffusionPipeline:
    def __init__(self, config):
        self.config = config
        self.unet = _UNet()
        self.device = "cpu"

    @classmethod
    def from_pretrained(cls, path, use_safetensors=True):
        return cls(json.loads((Path(path) / "model_index.json").read_text()))

    def save_pretrained(self, path):
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "model_index.json").write_text(json.dumps(self.config))

    def to(self, device):
        self.device = str(device)
        return self

    def __call__(self, prompt, height=512, width=512, num_inference_steps=50, guidance_scale=7.5, eta=0):
        digest = hashlib.sha256(prompt.encode()).digest()
        tint = (self.unet.lora or {}).get("tint", [0, 0, 0])
        colour = tuple((digest[i] + tint[i]) % 256 for i in range(3))
        return ([Image.new("RGB", (width, height), colour)], [False])
