"""The "toy country": three equal towns and many villages, fed to the same model.

Towns are identical in size, centrality and services, and nobody with a refugee background
lives anywhere at the start, so nothing in the rules favours one town over another. Which town
a country group ends up concentrated in comes from small random differences (who happened to
move first, where the villages lie) amplified by the co-ethnic network pull. That is the
network feedback the lesson wants students to see, without Norway's real geography hiding it.
"""

from __future__ import annotations

import numpy as np

from simulation.inputs.categories import COUNTRY_GROUPS
from simulation.inputs.defaults import AllocationPolicy, Inputs, build_inputs
from simulation.inputs.geography import Geography, from_columns

TOY_START, TOY_END = 2010, 2029
TOY_VOLUME = 600.0  # persons settled by agreement per year at 100 %
TOWN_POPULATION = 45_000  # above the thresholds for hospital and higher education
N_VILLAGES = 60
CENTRE = (61.5, 10.0)  # lat, lon: inland southern Norway, inside the geography's bounds
TOWN_NAMES = ("Aby", "Byrud", "Dalvik")
TOWN_SPACING_KM = 40.0
VILLAGE_RADIUS_KM = 120.0


def toy_geography(n_villages: int = N_VILLAGES, layout_seed: int = 0) -> Geography:
    """Three towns on a triangle ~150 km apart, villages scattered around them.

    Each town and its nearest villages form a county, so "same county" means "same district".
    The layout is fixed (``layout_seed``), so the model seed alone changes a run.
    """
    rng = np.random.default_rng(layout_seed)
    lat0, lon0 = CENTRE
    km_lat, km_lon = 111.0, 111.0 * np.cos(np.radians(lat0))
    angles = np.radians([90.0, 210.0, 330.0])
    town_xy = TOWN_SPACING_KM * np.column_stack([np.cos(angles), np.sin(angles)])  # km east, north
    r = VILLAGE_RADIUS_KM * np.sqrt(rng.random(n_villages))
    a = 2 * np.pi * rng.random(n_villages)
    village_xy = np.column_stack([r * np.cos(a), r * np.sin(a)])
    xy = np.vstack([town_xy, village_xy])
    n = len(xy)
    population = np.concatenate([
        np.full(3, TOWN_POPULATION),
        np.round(np.exp(rng.uniform(np.log(600), np.log(4000), n_villages))),
    ]).astype(int)
    raw: dict[str, list[object]] = {
        "kommunenummer": [f"{9001 + i}" for i in range(n)],
        "name": [*TOWN_NAMES, *(f"Village {i + 1}" for i in range(n_villages))],
        "county": ["Toy county"] * n,
        "region": ["Toy country"] * n,
        "population": population.tolist(),
        "centrality": [3, 3, 3, *np.where(population[3:] >= 2000, 5, 6).tolist()],
        "lat": (lat0 + xy[:, 1] / km_lat).tolist(),
        "lon": (lon0 + xy[:, 0] / km_lon).tolist(),
        "area_km2": [float("nan")] * n,
    }
    return from_columns(raw, "toy country")


def toy_inputs(volume_share: float = 1.0, exclude_below: int = 0) -> Inputs:
    """Twenty years of constant settlement into the toy country, no one there at the start.

    Refugees are settled in the villages only (quota ~ population**0.6, as in Norway); the
    towns fill up through secondary moves alone, which is where network feedback shows. If
    ``exclude_below`` rules out every village, the towns settle instead.
    """
    geo = toy_geography()
    pop = geo.population.astype(float)
    town = pop >= TOWN_POPULATION
    village_ok = ~town & (pop >= exclude_below)
    settles = village_ok if village_ok.any() else town
    quotas = {str(c): float(p ** 0.6) for c, p, s in zip(geo.codes, pop, settles, strict=True)
              if s}
    return build_inputs(TOY_START, TOY_END,
                        {y: TOY_VOLUME * volume_share for y in range(TOY_START, TOY_END + 1)},
                        geo, allocation=AllocationPolicy(quotas=quotas),
                        composition_like=2015,  # a pre-2022 mix: no Ukrainian arrivals
                        background=np.zeros((len(COUNTRY_GROUPS), geo.n)))
