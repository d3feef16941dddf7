"""Run stage: the pipeline's stage order, the run folder, results.json and --resume."""
