"""The dashboard's views and panels: each renders plain data it is given and keeps nothing else."""
