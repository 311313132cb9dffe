"""Layer declarations, one module per palette group. Importing this package registers them all."""
from . import io, conv, pooling, activation, normalization, dense, merge  # noqa: F401
