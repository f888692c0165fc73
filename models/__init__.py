"""Storage: peewee models and the Redis live-state stores. Knows nothing of Flask."""
