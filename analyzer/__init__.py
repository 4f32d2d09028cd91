"""What samples mean: step detection, cadence, impact, reports. `analyze(recording)` is the entry point."""
from sensors.errors import DeviceError, InputError, ParameterError, RetrorunError, UnitError

from .analysis import Analysis, Summary, analyze
from .placement import DetectorParams, params_for

__version__ = "0.1.0"

__all__ = ["analyze", "Analysis", "Summary", "DetectorParams", "params_for", "RetrorunError", "InputError", "ParameterError",
           "UnitError", "DeviceError", "__version__"]
