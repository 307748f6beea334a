"""The yearly stages in the order of MODEL.md 3: settle, life course, exits, move decision,
destination choice, moves. Each is one vectorized function over all households."""
