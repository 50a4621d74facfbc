"""Layer 0, what every part shares: argument checks, atomic files, the name registry, shared names, the percent
step, ImageNet's pixel statistics and the paper's numbers."""
