"""marshmallow schemas: the contract of each resource."""
