"""Interactive controls for JupyterLab: the α/μ/λ panel and the α × μ grid runner, with a cache of finished runs."""

from .cache import RunCache, run_key
from .mixing import BetaSlider, LambdaSlider
from .grid import AblationGrid
from .live import LiveLandscape
from .panel import ProxySynthesisPanel, panel_config

__all__ = ["AblationGrid", "BetaSlider", "LambdaSlider", "LiveLandscape", "ProxySynthesisPanel", "RunCache", "panel_config",
           "run_key"]
