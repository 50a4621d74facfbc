"""Layer 1, the method: the Proxy Synthesis operator (`synthesis`) and the proxy losses it feeds (`losses`)."""
