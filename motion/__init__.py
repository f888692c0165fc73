"""The motion-analysis domain: pure functions over poses, walls and videos.

Nothing here imports Flask, Dramatiq, Redis, peewee or marshmallow. Long
functions take a ``progress`` callback (see :mod:`motion.progress`) and raise
:class:`motion.errors.MotionError` subclasses for bad input.
"""
