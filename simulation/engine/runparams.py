"""What is fixed for a run: the parameters, the inputs, and the tables derived from them once.

Every yearly stage is called as ``stage(world, params, year, rng)``. ``world`` is the state of
the simulated country and changes; ``params`` is a :class:`RunParams`: the run's
:class:`~simulation.inputs.parameters.Params` (read as attributes, ``params.rights_years``,
exactly like a Params) plus

* ``inputs``: the run's :class:`~simulation.inputs.defaults.Inputs`, where a stage finds the
  year's settlement volume, composition, allocation policy and population scale;
* tables computed once from parameters and geography (the fixed parts of destination
  utility), which used to be written into the world although they never change.

Why this object and not the world for the inputs: the rule of the split is "changes during
the run -> world, fixed for the run -> params", and the settlement schedule and policy are as
fixed as the parameters; keeping them together also keeps the contract at four arguments
without a ten-argument ``settle``.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.terms import (
    REACH_KM,
    REFERENCE_CENTRALITY,
    REFERENCE_POPULATION,
    reach_kernel,
)
from simulation.inputs.defaults import Inputs
from simulation.inputs.geography import Geography
from simulation.inputs.parameters import Params

NEED_CODES = 8  # needs as a 3-bit code: school 1, higher education 2, health 4
# Regions (the geography's ``region`` column, SSB's landsdeler) of the move decision's regional
# term; the rest (Oslo og Viken, Innlandet, Agder og Sør-Østlandet) is the east, the reference.
NORTH_REGIONS = ("Nord-Norge",)
WEST_REGIONS = ("Vestlandet", "Trøndelag")


def relative_housing_price(geo: Geography) -> np.ndarray:
    """log(price per m2 / the geography's median): the destination's housing-cost term. The
    median only shifts every destination's utility by the same amount, which the logit
    ignores, so a user geography's own median gives the same choices as Norway's."""
    price = geo.housing_price
    return np.log(price / np.median(price))


def place_move_logit(params: Params, geo: Geography) -> np.ndarray:
    """The part of a general move's log-odds that depends only on where the household lives:
    size, centrality and region (north; west and central; the east is the reference)."""
    region = geo.table["region"].to_numpy()
    return (params.move_size_effect * (np.log(geo.population) - np.log(REFERENCE_POPULATION))
            + params.move_centrality_effect * (geo.centrality - REFERENCE_CENTRALITY)
            + params.move_north_effect * np.isin(region, NORTH_REGIONS)
            + params.move_west_effect * np.isin(region, WEST_REGIONS))


class RunParams(Params):
    """Params plus the run's Inputs and the destination-utility tables derived from both.

    >>> from simulation.inputs.defaults import default_inputs
    >>> params = RunParams(Params({"rights_years": 3}), default_inputs(2010, 2011))
    >>> params.rights_years, params.static_utility.shape
    (3.0, (357, 357))

    ``dict(params)`` and pickling give the plain parameter values, as for a Params.
    """

    __slots__ = ("inputs", "labour_utility", "place_move_logit", "reach", "service_utility",
                 "static_utility", "tie_pull")

    def __init__(self, params: Params, inputs: Inputs) -> None:
        super().__init__(params)
        geo = inputs.geography
        base = (self.dest_size_effect * np.log(geo.population)
                + self.dest_centrality_effect * geo.centrality
                + self.dest_oslo_effect * geo.oslo + self.dest_east_effect * geo.east
                + self.dest_housing_effect * relative_housing_price(geo))
        county = geo.county_index
        od = (base[None, :] + self.dest_distance_effect * np.log1p(geo.distance_km)
              + self.dest_same_county_effect * (county[:, None] == county[None, :]))
        np.fill_diagonal(od, -np.inf)
        services = np.stack([geo.upper_secondary, geo.higher_education, geo.hospital]
                            ).astype(float)
        bits = (np.arange(NEED_CODES)[:, None] >> np.arange(3)) & 1  # (need codes, services)
        fixed = {
            "inputs": inputs,
            # origin x destination: size, centrality, Oslo, east, distance, same county; the
            # origin itself is -inf (not a destination)
            "static_utility": od,
            # need code x destination: services that meet the household's needs
            "service_utility": self.dest_service_effect * (bits @ services),
            # (general move, job move) x destination: the labour market, doubled for a job
            "labour_utility": self.dest_labour_effect * np.outer([1.0, 2.0], geo.labour_market),
            # municipality: the fixed part of the general-move log-odds where one lives (size,
            # centrality, region)
            "place_move_logit": place_move_logit(self, geo),
            # municipality x municipality: who is within reach, for the network-in-reach term
            "reach": reach_kernel(geo.distance_km),
            # municipality x tie municipality: a tie's pull (terms.tie_pull) as a table, so
            # the compiled move decision gathers numpy's expm1 instead of evaluating its own
            "tie_pull": -np.expm1(-np.asarray(geo.distance_km, dtype=np.float64) / REACH_KM),
        }
        for name, value in fixed.items():
            object.__setattr__(self, name, value)
