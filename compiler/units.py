"""The units guidec checks: a fixed, documented subset of UCUM (the Unified Code for Units of
Measure, as HL7 FHIR and CQL write quantities).

Each unit has its UCUM code, its dimension, its factor to the dimension's base unit (exact)
and how people print it. Two units convert when they share a dimension; a factor that depends
on the substance (glucose mmol/L to mg/dL) is declared on the input instead (`convert 18.016
'mg/dL'`). The table is the reference: ``dsl/README.md`` lists it (generated from here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit: ``factor`` converts a value in this unit to the dimension's base unit."""

    code: str
    dimension: str
    factor: Fraction
    display: str
    #: Other spellings accepted for the code (mmHg for mm[Hg], µmol/L for umol/L).
    aliases: tuple[str, ...] = ()


def _u(code: str, dimension: str, factor: str | int, display: str | None = None,
       *aliases: str) -> Unit:
    return Unit(code, dimension, Fraction(factor), display or code, aliases)


#: The subset, by dimension (base unit first).
UNITS: tuple[Unit, ...] = (
    _u("g", "mass", 1), _u("kg", "mass", 1000), _u("mg", "mass", "1/1000"),
    _u("ug", "mass", "1/1000000", "µg", "µg", "mcg"),
    _u("m", "length", 1), _u("cm", "length", "1/100"), _u("mm", "length", "1/1000"),
    _u("L", "volume", 1), _u("dL", "volume", "1/10"), _u("mL", "volume", "1/1000"),
    _u("s", "time", 1), _u("min", "time", 60), _u("h", "time", 3600),
    _u("d", "time", 86400), _u("wk", "time", 604800),
    _u("mo", "time", 2629800, "months"), _u("a", "time", 31557600, "years"),
    _u("mol/L", "substance concentration", 1),
    _u("mmol/L", "substance concentration", "1/1000"),
    _u("umol/L", "substance concentration", "1/1000000", "µmol/L", "µmol/L"),
    _u("g/L", "mass concentration", 1), _u("g/dL", "mass concentration", 10),
    _u("mg/dL", "mass concentration", "1/100"), _u("mg/L", "mass concentration", "1/1000"),
    _u("ug/L", "mass concentration", "1/1000000", "µg/L", "µg/L", "ng/mL"),
    _u("Pa", "pressure", 1), _u("kPa", "pressure", 1000),
    _u("mm[Hg]", "pressure", "133322387415/1000000000", "mmHg", "mmHg"),
    _u("/min", "rate", "1/60", "/min"), _u("/h", "rate", "1/3600", "/h"),
    _u("mL/min", "volume rate", "1/60000"), _u("L/min", "volume rate", "1/60"),
    _u("mL/min/{1.73_m2}", "filtration rate", 1, "mL/min/1.73 m²"),
    _u("10*9/L", "cell count", 1, "×10⁹/L"),
    _u("U/L", "catalytic concentration", 1),
    _u("%", "fraction", "1/100"),
    _u("Cel", "temperature", 1, "°C"),
    _u("kg/m2", "mass per area", 1, "kg/m²"),
)

_BY_CODE: dict[str, Unit] = {}
for _unit in UNITS:
    for _name in (_unit.code, *_unit.aliases):
        _BY_CODE[_name] = _unit


def unit(code: str) -> Unit | None:
    """The unit with this UCUM code (or accepted alias), or None."""
    return _BY_CODE.get(code)


def codes() -> tuple[str, ...]:
    """Every accepted spelling, for did-you-mean."""
    return tuple(_BY_CODE)


def factor(source: str, target: str,
           declared: tuple[tuple[str, Fraction], ...] = ()) -> Fraction | None:
    """The number that converts a value in ``source`` to ``target`` (value * factor), or
    None when they do not convert. ``declared`` are the target input's own conversions:
    (unit, how many of it make one of ``target``), for a factor that depends on the
    substance."""
    s, t = unit(source), unit(target)
    if s is None or t is None:
        return None
    if s.dimension == t.dimension:
        return s.factor / t.factor
    for code, per_one in declared:
        d = unit(code)
        if d is not None and d.dimension == s.dimension:
            # value [source] -> value * s/d [declared unit] -> / per_one [target]
            return s.factor / d.factor / per_one
    return None


def accepted(target: str, declared: tuple[tuple[str, Fraction], ...] = ()
             ) -> tuple[tuple[str, Fraction], ...]:
    """Every spelling a patient may give a value of unit ``target`` in, with its factor to
    ``target``, in the table's order (the evaluator's did-you-mean reads this order)."""
    out = []
    for name, u in _BY_CODE.items():
        f = factor(u.code, target, declared)
        if f is not None:
            out.append((name, f))
    return tuple(out)


def display(code: str) -> str:
    """How people print a unit (mmHg for mm[Hg]); the code itself when not in the table."""
    u = unit(code)
    return u.display if u is not None else code


# ----------------------------------------------------------------------------- dates and times
# A date is a whole number of days since 1970-01-01, a date and time a whole number of seconds
# since 1970-01-01T00:00 (UTC when an offset is given; as given otherwise): integers, so the
# solver's proofs over time stay in linear integer arithmetic.

#: The dates a `date` or `datetime` input accepts: a value outside is an invalid patient, a
#: literal outside is E203.
EARLIEST = "1900-01-01"
LATEST = "2200-12-31"

#: Seconds in a day: a date beside a date and time counts from its midnight.
DAY_SECONDS = 86400
#: Seconds per unit of `minutes between`, `hours between`, `days between`.
ELAPSED = {"minutes": ("min", 60), "hours": ("h", 3600), "days": ("d", 86400)}


#: The ISO 8601 forms a date (False) and a date and time (True) take: `2026-12-04`;
#: `2026-12-04T14:30`, seconds (with a fraction) and a UTC offset (`Z`, `+01:00`) allowed.
ISO_FORMS = {False: r"\d{4}-\d{2}-\d{2}",
             True: r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?"}


def moment(text: str, with_time: bool) -> int | None:
    """The number a date (days) or date and time (seconds) stands for, or None when the text
    is not one (ISO 8601: `2026-12-04`, `2026-12-04T14:30`, seconds and an offset allowed)."""
    import datetime as dt

    if not re.fullmatch(ISO_FORMS[with_time], text):
        return None
    try:
        if not with_time:
            return dt.date.fromisoformat(text).toordinal() - dt.date(1970, 1, 1).toordinal()
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    delta = when - dt.datetime(1970, 1, 1)
    return delta.days * 86400 + delta.seconds


#: Where a witness's latest time of day goes when it would be earlier (10:00, in seconds).
_MORNING = 10 * 3600


def moved_to(moments: dict[str, tuple[int, bool]], updated: str) -> list[dict[str, int]]:
    """A witness's dates and times (name -> (days or seconds, has a time)) moved together, by
    whole days, so that the latest falls on the ``updated`` date (a solver's dates start in
    1970), the times between them kept: the moves to try, best first (also a latest time
    before 10:00 moved to 10:00, an hour a clinician might see); none when already there."""
    anchor = moment(updated, False)
    if anchor is None or not moments:
        return []
    days = anchor - max(v // DAY_SECONDS if timed else v for v, timed in moments.values())
    times = [v for v, timed in moments.values() if timed]
    later = max(0, _MORNING - max(times) % DAY_SECONDS) if times else 0
    return [{name: v + days * (DAY_SECONDS if timed else 1) + (extra if timed else 0)
             for name, (v, timed) in moments.items()}
            for extra in ([later, 0] if later else [0]) if days or extra]


def moment_text(value: int, with_time: bool) -> str:
    """The ISO 8601 text of a date (days) or a date and time (seconds)."""
    import datetime as dt

    if not with_time:
        return (dt.date(1970, 1, 1) + dt.timedelta(days=value)).isoformat()
    when = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=value)
    return when.isoformat(timespec="minutes" if when.second == 0 else "seconds")
