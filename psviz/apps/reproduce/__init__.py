"""`psviz reproduce`: baseline vs Proxy Synthesis for the eight losses, on the small datasets and the paper's."""

from .effect_map import EffectMapPlan
from .effect_report import summary_paragraph
from .effect_results import effect_table, teaching_level
from .full import NotReady, check_ready, run_benchmark
from .jobs import Job
from .plan import Plan
from .pretrained import PretrainedPlan
from .report import collect, write_report
from .runner import run_jobs
from .small import reproduce_small

__all__ = ["EffectMapPlan", "Job", "NotReady", "Plan", "PretrainedPlan", "check_ready", "collect", "effect_table",
           "reproduce_small", "run_benchmark", "run_jobs", "summary_paragraph", "teaching_level", "write_report"]
