"""Running benchmarks: planning, the runner's stages, the training loop, several processes, checkpoints."""
