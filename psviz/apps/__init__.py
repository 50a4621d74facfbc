"""Layer 6, the apps: the `psviz` command (`cli`), the demo, the small-data reproduction and the Playground."""
