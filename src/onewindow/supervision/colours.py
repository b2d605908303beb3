"""The colour of a deadline: red once passed, yellow when few working days are left (the
item's threshold, by default one working day or 20 % of the limit, whichever is more).

Working-day arithmetic is done once per region and threshold for the day, not per case: a due
date is yellow when it falls before the (threshold + 1)-th working day after today.
"""

import datetime as dt
import math
from dataclasses import dataclass

from onewindow.core import workdays
from onewindow.core.models import Region
from onewindow.supervision.choices import (
    DEFAULT_NEAR_DAYS,
    DEFAULT_NEAR_PERCENT,
    Colour,
)
from onewindow.supervision.models import ItemSetting


@dataclass(frozen=True)
class Threshold:
    near_days: int | None = None
    near_percent: int = DEFAULT_NEAR_PERCENT

    def days(self, limit_days: int | None) -> int:
        if self.near_days is not None:
            return self.near_days
        share = math.ceil((limit_days or 0) * self.near_percent / 100)
        return max(DEFAULT_NEAR_DAYS, share)


DEFAULT_THRESHOLD = Threshold()


class Palette:
    """Colours for one day, with the item settings and region calendars read once."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self._regions: dict[int, Region | None] = {}
        self._thresholds: dict[int, Threshold] = {}
        self._bounds: dict[tuple[int | None, int], dt.date] = {}

    def load(self, *, item_ids: set[int], region_ids: set[int]) -> None:
        missing_items = item_ids - self._thresholds.keys()
        for item_id in missing_items:
            self._thresholds[item_id] = DEFAULT_THRESHOLD
        for setting in ItemSetting.objects.filter(item_id__in=missing_items):
            self._thresholds[setting.item_id] = Threshold(
                setting.near_days, setting.near_percent
            )
        missing_regions = region_ids - self._regions.keys()
        self._regions.update(Region.objects.in_bulk(missing_regions))

    def threshold(self, item_id: int) -> Threshold:
        return self._thresholds.get(item_id, DEFAULT_THRESHOLD)

    def _yellow_before(self, region_id: int | None, days: int) -> dt.date:
        key = (region_id, days)
        if key not in self._bounds:
            region = self._regions.get(region_id) if region_id else None
            self._bounds[key] = workdays.add_working_days(
                self.today, days + 1, region=region
            ).date
        return self._bounds[key]

    def colour(
        self,
        due: dt.date | None,
        *,
        limit_days: int | None,
        item_id: int,
        region_id: int | None,
    ) -> str:
        if due is None:
            return Colour.GREEN
        if due < self.today:
            return Colour.RED
        if due < self._yellow_before(
            region_id, self.threshold(item_id).days(limit_days)
        ):
            return Colour.YELLOW
        return Colour.GREEN
