"""Talos' parameter spaces: `ParamSpace` and `DistributeParamSpace` (the module names are Talos', so that
`from talos.parameters.ParamSpace import ParamSpace` ports by changing `talos` to `knoblab.talos`)."""

from .DistributeParamSpace import DistributeParamSpace
from .ParamSpace import ParamSpace

__all__ = ["ParamSpace", "DistributeParamSpace"]
