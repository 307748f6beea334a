"""What a run is given: the parameter registry, Norway's geography, the register defaults,
scenario files and their checked YAML loading. Nothing here runs the model."""
