"""psviz: learn, see and use Proxy Synthesis (Gu, Ko, Kim, AAAI 2021) for proxy-based deep metric learning."""

from . import data, evaluate, losses, models, paper
from .synthesis import ProxySynthesis, SynthesisResult, proxy_synthesis, random_partner, roll_partner, sample_lambda

__version__ = "0.1.0"

__all__ = [
    "ProxySynthesis",
    "SynthesisResult",
    "data",
    "evaluate",
    "losses",
    "models",
    "paper",
    "proxy_synthesis",
    "random_partner",
    "roll_partner",
    "sample_lambda",
]
