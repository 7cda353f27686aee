"""The disk tier (L3): a store on local disk shared by the processes of one host
(`DiskOptions`, the `DiskTier` over the C++ store, and the drivers that chain it below L1)."""

from .options import DiskOptions

__all__ = ["DiskOptions"]
