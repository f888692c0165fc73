"""marshmallow schemas: the contract of each resource."""
from marshmallow import validate

#: Largest integer every database column holds (PostgreSQL ``integer``, the type of every id).
INT_MAX = 2**31 - 1


def id_range(min: int = 1) -> validate.Range:
    """A record id, page number or other count that must fit a database integer."""
    return validate.Range(min=min, max=INT_MAX)
