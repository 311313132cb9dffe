"""The dashboard's dialogs: choosing a dataset, following a background run."""
