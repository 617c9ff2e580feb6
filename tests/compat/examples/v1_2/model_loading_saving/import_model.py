"""BentoML 1.2 examples/model-loading-saving/import_model.py: several models in one bentoml.models.create().

``tinydiffusion`` stands in for ``diffusers`` (see that module); the pipeline is "downloaded" by
building it from a config instead of ``from_pretrained(model_id)``.
"""

import shutil

from tinydiffusion import StableDiffusionPipeline

import bentotui as bentoml

model_id = "CompVis/stable-diffusion-v1-4"
pipeline = StableDiffusionPipeline({"_class_name": "StableDiffusionPipeline", "_name_or_path": model_id})

local_lora = "./lora"
with bentoml.models.create(
    name="sd",
) as model_ref:
    local_diffusion_path = model_ref.path_of("diffusion")
    local_lora_path = model_ref.path_of("lora")
    pipeline.save_pretrained(local_diffusion_path)
    shutil.copytree(local_lora, local_lora_path, dirs_exist_ok=True)
    print(f"Model saved: {model_ref}")
