"""psviz's Proxy Synthesis in other libraries' training loops: `psviz.integrations.pml` for pytorch-metric-learning
(an optional extra: pip install 'psviz[pml]')."""
