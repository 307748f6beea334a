"""The simulation itself: the mesa model, the world's arrays, households, random streams, the
yearly stages, the results it hands back, and the readable per-household reference model."""
