"""`psviz reproduce`: baseline vs Proxy Synthesis for the eight losses, on the small datasets and the paper's."""

from .full import NotReady, check_ready, run_benchmark
from .plan import Job, Plan
from .report import collect, write_report
from .runner import run_jobs
from .small import reproduce_small

__all__ = ["Job", "NotReady", "Plan", "check_ready", "collect", "reproduce_small", "run_benchmark", "run_jobs",
           "write_report"]
