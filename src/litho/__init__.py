"""litho: process simulation for direct photopatterning of quantum-dot films.

The public API (DESIGN.md §5) is re-exported here. Names are resolved on
first use so that ``import litho`` stays fast and the CLI starts quickly.

Examples
--------
>>> import litho
>>> recipe = litho.load_recipe("recipes/rgb_stripe_1000ppi.toml")  # doctest: +SKIP
>>> result = litho.simulate(recipe)                                 # doctest: +SKIP
>>> result.save("out")                                              # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    "LithoInputError": "errors",
    "Grid": "grid",
    "load_recipe": "recipe",
    "Recipe": "recipe",
    "recipe_from_dict": "recipe",
    "simulate": "process",
    "Result": "process",
    "min_feature": "resolution",
    "optimize": "optimization",
    "OptimizeResult": "optimization",
    "read_mask": "gds",
    "Mask": "gds",
    "write_gds": "gds",
    "pixel_array": "layout",
    "rasterize": "raster",
    "mask_info": "gds",
    "aerial_image": "optics",
    "spectral_images": "optics",
    "ProximityOptics": "optics",
    "ProjectionOptics": "optics",
    "aerial_series": "optics",
    "spectral_series": "optics",
    "socs_kernels": "optics",
    "image_log_slope": "optics",
    "develop": "development",
    "contrast_curve": "development",
    "materials": "materials",
    "parse_atmosphere": "chemistry",
    "calibrate": "calibration",
    "read_contrast_csv": "calibration",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    module_name = _API.get(name)
    if module_name is None:
        raise AttributeError(f"module 'litho' has no attribute {name!r}")
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if name == module_name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
