"""The REACT data layer: reading the dataset layout, the feature store, datasets and checks."""
