"""Which municipalities' schools, hospitals and campuses a household can use from home.

Why: a service need (a teenager's school, a hospital, a campus) makes a household move only
if the service cannot be used from where it lives, and services are used across municipal
borders: a pupil in Haram goes to school in Ålesund, and most small municipalities send
their patients to a hospital in the next town. So a municipality *i* has access to a service
if some municipality *j* has it (own-municipality flag from the data) and

* ``j == i``, or
* at least :data:`MIN_COMMUTING_SHARE` of i's employed residents work in j (there is a daily
  travel link that a pupil or a patient can use too), or
* j's centroid lies within the service's distance (straight line, centroid to centroid) of
  i's centroid (:data:`MAX_KM`).

Thresholds (all ASSUMPTION; no Norwegian standard defines "within reach"):

* upper-secondary school, 20 km: a daily trip to school; with road detours (~1.3-1.5x) this
  is about 30 minutes by road, well inside what pupils commute daily before they take
  lodgings (hybel) away from home. Kept short because a straight line crosses fjords and sea
  (Utsira lies 22 km from Karmøy, 70 minutes by ferry from Haugesund).
* hospital, 60 km: about an hour's drive; a general hospital is visited now and then, not
  daily, and Norway's hospital structure assumes travel of around an hour for most people.
* higher-education campus, 50 km: students commute daily to campus, further than pupils.
* commuting share, 10 %: one in ten employed residents working in j means regular daily
  transport to j (bus, ferry or road). At 5 % small municipalities with a few commuters
  would reach every service of the regional centre.

Centroids of large municipalities can lie far from their schools; the distance test is a
first approximation, the commuting test catches the rest of the real daily links.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_KM", "MIN_COMMUTING_SHARE", "access", "reach"]

MAX_KM: dict[str, float] = {  # ASSUMPTION, see the module docstring
    "upper_secondary": 20.0,
    "hospital": 60.0,
    "higher_education": 50.0,
}
MIN_COMMUTING_SHARE = 0.10  # ASSUMPTION, see the module docstring


def reach(
    service: str, has: np.ndarray, commuting: np.ndarray, distance_km: np.ndarray
) -> np.ndarray:
    """``reach[i, j]``: a household in i can use j's service (n x n bool)."""
    near = (distance_km <= MAX_KM[service]) | (commuting >= MIN_COMMUTING_SHARE)
    np.fill_diagonal(near, True)
    return near & np.asarray(has, dtype=bool)[None, :]


def access(
    service: str, has: np.ndarray, commuting: np.ndarray, distance_km: np.ndarray
) -> np.ndarray:
    """``access[i]``: the service is in i or in a municipality i reaches (n bool)."""
    return reach(service, has, commuting, distance_km).any(axis=1)
