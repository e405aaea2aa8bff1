"""Where a ZIP code is, from the offline dataset of the `zipcodes` package (nothing fetched).

The rules read `in_santa_clara_county`; nearby services are sorted by distance from the ZIP.
A ZIP outside California ends the screening kindly (these are California programs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

HOME_COUNTY = "Santa Clara County"
# The nine Bay Area counties (regional programs such as Clipper START serve all of them).
BAY_AREA_COUNTIES = frozenset({
    "Alameda County", "Contra Costa County", "Marin County", "Napa County",
    "San Francisco County", "San Mateo County", "Santa Clara County", "Solano County",
    "Sonoma County",
})


@dataclass(frozen=True)
class Place:
    zip: str
    city: str
    state: str
    county: str
    latitude: float
    longitude: float

    @property
    def in_home_county(self) -> bool:
        return self.state == "CA" and self.county == HOME_COUNTY

    @property
    def in_california(self) -> bool:
        return self.state == "CA"

    @property
    def in_bay_area(self) -> bool:
        return self.state == "CA" and self.county in BAY_AREA_COUNTIES

    def miles_to(self, other: Place) -> float:
        """Great-circle distance in miles (haversine), plenty for 'nearest first'."""
        lat1, lon1, lat2, lon2 = map(
            math.radians, (self.latitude, self.longitude, other.latitude, other.longitude)
        )
        a = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        return 3958.8 * 2 * math.asin(math.sqrt(a))


@lru_cache(maxsize=4096)
def lookup_zip(zip_code: str) -> Place | None:
    """The place of a real 5-digit US ZIP code, or None if it does not exist."""
    import zipcodes

    if not (isinstance(zip_code, str) and len(zip_code) == 5 and zip_code.isdigit()):
        return None
    try:
        matches = zipcodes.matching(zip_code)
    except (ValueError, TypeError):
        return None
    if not matches:
        return None
    row = matches[0]
    return Place(
        zip=row["zip_code"],
        city=row["city"],
        state=row["state"],
        county=row["county"],
        latitude=float(row["lat"]),
        longitude=float(row["long"]),
    )


def in_home_county(zip_code: str | None) -> bool | None:
    """True/False for a known ZIP; None when we do not know (no ZIP or not a real one)."""
    place = lookup_zip(zip_code) if zip_code else None
    return place.in_home_county if place else None


def in_california(zip_code: str | None) -> bool | None:
    """True/False for a known ZIP; None when we do not know (statewide programs then apply)."""
    place = lookup_zip(zip_code) if zip_code else None
    return place.in_california if place else None


def in_bay_area(zip_code: str | None) -> bool | None:
    """True/False for a known ZIP; None when we do not know."""
    place = lookup_zip(zip_code) if zip_code else None
    return place.in_bay_area if place else None
