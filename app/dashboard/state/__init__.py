"""What belongs to the open project besides its graph — the project state (Qt-free):
project_state.py (the one owner the views observe), curves.py (the run's curves),
session.py (whether trained weights fit the canvas). Nothing here imports Qt or torch
(tests/test_dashboard_boundary.py checks); the Qt adapter is ../state_binding.py."""
