"""Many runs of one or two scenarios: replicate ensembles, paired comparisons, their outputs."""
