"""What belongs to the open project besides its graph: the trained session, its settings, where its weights are kept."""
