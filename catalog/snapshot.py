"""The catalog as plain, frozen data: what the pure spec code (specs/) reads instead of the database."""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Gpu:
    name: str
    vram_gb: int
    max_gpus: int
    price: Decimal  # per GPU-hour, in force now
    available: bool


@dataclass(frozen=True)
class RegionInfo:
    code: str
    available: bool
    offerings: dict  # GPU class name -> GPUs free there now


@dataclass(frozen=True)
class Family:
    name: str
    layers: int
    kv_heads: int
    head_dim: int


@dataclass(frozen=True)
class Catalog:
    gpus: dict  # name -> Gpu
    regions: dict  # code -> RegionInfo
    tiers: dict  # slug -> read GB/s (Decimal)
    families: dict = field(default_factory=dict)  # name -> Family
