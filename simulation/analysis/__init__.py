"""What a run means: indicators computed from Results and their comparison with the register."""
