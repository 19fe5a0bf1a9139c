"""Datasets, augmentation, losses and training loops; they arrive with their issues."""
