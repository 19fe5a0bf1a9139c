"""torch ``nn.Module`` definitions only (no I/O, no numpy); they arrive with their issues."""
