"""The teaching app: Mesa's SolaraViz in the browser on the real model (``secmig app``).

Modules, one job each: ``teaching_model`` (the engine with the lesson's controls as keywords
and the per-year chart aggregates), ``toy`` (the synthetic toy country), ``svg`` and ``views``
(map and charts as SVG), ``page`` (the Solara page), ``serve`` (starting the server) and
``assets`` (front-end files for offline machines). Nothing here is imported by ``secmig``
until the ``app`` command runs, so the rest of the CLI does not need the web packages.
"""
