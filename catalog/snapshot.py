"""The catalog as plain, frozen data: what the pure spec code (specs/) reads instead of the database."""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Gpu:
    name: str
    vram_gb: int
    max_gpus: int  # GPUs one replica links with NVLink (8 full mesh, 2 bridged pairs, 1 PCIe only); more run over PCIe
    price: Decimal  # per GPU-hour, in force now
    available: bool


@dataclass(frozen=True)
class RegionInfo:
    code: str
    available: bool
    offerings: dict  # GPU class name -> GPUs free there now for new deployments (0 everywhere while draining)
    endpoints: dict = field(default_factory=dict)  # storage tier slug -> S3 endpoint URL for pods there
    draining: bool = False  # its cluster is draining: keeps its deployments, takes no new ones


@dataclass(frozen=True)
class Family:
    name: str
    layers: int
    kv_heads: int
    head_dim: int


@dataclass(frozen=True)
class CpuPrice:
    """The CPU rate in force now, for pods without a GPU."""

    per_vcpu_hour: Decimal
    per_gb_hour: Decimal  # per GB of RAM requested


@dataclass(frozen=True)
class Catalog:
    gpus: dict  # name -> Gpu
    regions: dict  # code -> RegionInfo
    tiers: dict  # slug -> read GB/s (Decimal)
    families: dict = field(default_factory=dict)  # name -> Family
    cpu: CpuPrice | None = None  # None: no CPU rate in the catalog, CPU nodes cannot be priced
