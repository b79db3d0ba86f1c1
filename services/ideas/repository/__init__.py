"""Every query of the ideas service, one module per resource; flushes, never commits."""
