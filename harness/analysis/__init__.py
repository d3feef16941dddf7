"""Compare stage: metrics per pair, per-layer localisation, attribution, the verdict."""
