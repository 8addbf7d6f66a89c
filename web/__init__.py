"""The HTTP adapter: a FastAPI app over the station service, with metrics and a dashboard.

Handlers are thin: they check the key, parse the body, call ``wavelength.stations`` off the
event loop and shape the answer. Nothing here knows how a station is composed.
"""

from web.app import build_api
from web.server import run_api

__all__ = ["build_api", "run_api"]
