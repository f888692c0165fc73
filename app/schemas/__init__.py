"""marshmallow schemas: the contract of each resource."""
from marshmallow import fields, validate

#: Largest integer every database column holds (PostgreSQL ``integer``, the type of every id).
INT_MAX = 2**31 - 1


class Int(fields.Integer):
    """An integer field that refuses ``2.5`` instead of truncating it to 2 (marshmallow's Integer does);
    integral floats (``3.0``) and digit strings (query parameters) are still accepted."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


def id_range(min: int = 1) -> validate.Range:
    """A record id, page number or other count that must fit a database integer."""
    return validate.Range(min=min, max=INT_MAX)
