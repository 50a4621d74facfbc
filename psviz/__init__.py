"""psviz: learn, see and use Proxy Synthesis (Gu, Ko, Kim, AAAI 2021) for proxy-based deep metric learning.

Subpackages and the operator's names load on first use (a module ``__getattr__``), so ``import psviz`` and
``psviz.proxy_synthesis`` need torch only; ``psviz.evaluate``, ``psviz.viz`` and the rest bring in their libraries
(faiss, scikit-learn, pandas, plotly, ...) when first touched.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# subpackages and modules reachable as psviz.<name>, and where they live (the folders group them by layer)
_MODULES = {"names": "base.names", "paper": "base.paper", "synthesis": "method.synthesis", "losses": "method.losses",
            **{part: part for part in ("data", "models", "evaluate", "integrations", "train", "analysis", "viz",
                                       "widgets")},
            "reproduce": "apps.reproduce", "playground": "apps.playground"}
# names defined in a module, reachable as psviz.<name>
_NAMES = {name: "method.synthesis" for name in ("ProxySynthesis", "SynthesisResult", "proxy_synthesis",
                                                 "random_partner", "roll_partner", "sample_lambda")}

__all__ = sorted(["data", "evaluate", "losses", "models", "paper", *_NAMES])


def __getattr__(name: str):
    if name in _MODULES:
        return importlib.import_module(f".{_MODULES[name]}", __name__)
    if name in _NAMES:
        return getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'psviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES, *_NAMES})
