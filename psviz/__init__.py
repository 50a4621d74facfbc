"""psviz: learn, see and use Proxy Synthesis (Gu, Ko, Kim, AAAI 2021) for proxy-based deep metric learning.

Subpackages and the operator's names load on first use (a module ``__getattr__``), so ``import psviz`` and
``psviz.proxy_synthesis`` need torch only; ``psviz.evaluate``, ``psviz.viz`` and the rest bring in their libraries
(faiss, scikit-learn, pandas, plotly, ...) when first touched.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

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


_REAL_SPECS: dict = {}


class _ShortNameFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Make ``import psviz.losses`` and ``from psviz.synthesis import ...`` give the grouped modules themselves (the
    same objects, so classes compare equal), submodules included."""

    def find_spec(self, fullname, path=None, target=None):
        parts = fullname.split(".")
        if parts[0] != __name__ or len(parts) < 2 or _MODULES.get(parts[1], parts[1]) == parts[1]:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        _, short, *rest = spec.name.split(".")
        module = importlib.import_module(".".join([__name__, _MODULES[short], *rest]))
        _REAL_SPECS[module.__name__] = module.__spec__  # the import system sets the short name's: exec puts it back
        return module

    def exec_module(self, module):
        module.__spec__ = _REAL_SPECS[module.__name__]  # nothing to run: the grouped module ran on import


if not any(type(finder).__qualname__ == "_ShortNameFinder" for finder in sys.meta_path):  # once, reloads too
    sys.meta_path.insert(0, _ShortNameFinder())  # before the path finder, which would load a second copy


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES, *_NAMES})
