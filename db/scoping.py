"""One county's rows or every county's, as two statement texts."""

from __future__ import annotations


def in_county(sql: str, county_code: str | None, condition: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `{county}` filled: nothing for None (every county, the admin's), else
    `condition`, which names the next parameter, and the county as that parameter's value.

    Two texts rather than one `$n IS NULL OR county_code = $n`: asyncpg prepares each statement,
    and the generic plan PostgreSQL settles on for such a text cannot seek the county in an index
    (county_code leads every key), so it reads every county's rows for one county."""
    if county_code is None:
        return sql.format(county=""), ()
    return sql.format(county=condition), (county_code,)
