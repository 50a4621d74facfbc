"""The Proxy Synthesis Playground: train a baseline and a PS run side by side on the toy by clicking, in a browser
(`psviz playground`); every setting lives in the URL, so a link is a lesson.

`state` (settings, URL, config export) and `session` (the runs and their training thread) need no Panel; `views`
draws the figures, `controls` and `app` build a tab's page with Panel, and `server` serves it.
"""

from .session import Pair, Player, Snapshot
from .state import Settings, config_yaml, parse_query, query_string, to_query, train_config

__all__ = ["Pair", "Player", "Settings", "Snapshot", "config_yaml", "parse_query", "query_string", "to_query",
           "train_config"]
