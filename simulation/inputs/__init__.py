"""What a run is given: the parameter registry, Norway's geography, the register defaults,
scenario files and their checked YAML loading. Nothing here runs the model.

parameters.py (the registry; its policy group is a scenario's `policy:` section), geography.py,
defaults.py (register figures and ``build_inputs``, the one way to assemble ``Inputs``),
schema.py (the front door every input file goes through), scenario.py (loading and merging)
with scenario_schema.py, scenario_messages.py and scenario_sections.py, yamlsource.py (safe
YAML with lines), template.py and limits.py."""
