"""The app as gunicorn serves it in the tests, with the test actors importable."""
import tests.support.actors  # noqa: F401  (so jobs of the test actors can be submitted)
from app import create_app  # noqa: F401
