"""The machine: device choice, environment and versions, the clock, the matmul and bandwidth ceiling."""
