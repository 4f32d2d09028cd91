"""Where samples come from: the Recording type, its file formats, the gait simulator, devices, importers."""
from .errors import DeviceError, InputError, RetrorunError, UnitError
from .fileformat import load
from .recording import PLACEMENTS, Recording

__all__ = ["Recording", "load", "PLACEMENTS", "RetrorunError", "InputError", "UnitError", "DeviceError",
           "simulate"]


def simulate(*args, **kwargs):
    """Simulate a run; see sensors.simulate.simulate."""
    from .simulate import simulate as _simulate
    return _simulate(*args, **kwargs)
