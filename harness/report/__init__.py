"""Report stage: results.json first; every other format is made from it."""
