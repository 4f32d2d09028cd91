"""Where samples come from: the Recording type, its file formats, the gait simulator, devices, importers."""
from .errors import DeviceError, InputError, RetrorunError, UnitError
from .fileformat import load
from .recording import PLACEMENTS, Recording
from .simulator import SimulatedRun, simulate

__all__ = ["Recording", "load", "PLACEMENTS", "RetrorunError", "InputError", "UnitError", "DeviceError",
           "simulate", "SimulatedRun"]

