"""One module per capability (numpy in, result dataclass out); they arrive with their issues."""
