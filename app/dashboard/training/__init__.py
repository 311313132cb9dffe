"""The training client: the worker that owns the model, the mailbox it posts to, and the run control that drives it."""
