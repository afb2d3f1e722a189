from django.db import models

from formats.money import money_rate
from formats.moments import day


class NvLink(models.TextChoices):
    YES = "yes", "NVLink (full mesh)"
    PAIRS = "pairs", "NVLink bridge (pairs)"
    NO = "no", "No NVLink"


class GpuClass(models.Model):
    """A GPU type, named by the value of the `gpu.nvidia.com/class` node label."""

    name = models.CharField(max_length=64, unique=True, help_text="gpu.nvidia.com/class label value")
    display_name = models.CharField(max_length=100)
    vram_gb = models.PositiveIntegerField()
    nvlink = models.CharField(max_length=8, choices=NvLink.choices, default=NvLink.NO)
    infiniband = models.BooleanField(default=False)
    price_per_gpu_hour = models.DecimalField(
        max_digits=8, decimal_places=4, help_text="Current price; history is in GpuPrice"
    )
    available = models.BooleanField(default=True)

    class Meta:
        ordering = ["price_per_gpu_hour", "name"]
        verbose_name = "GPU class"
        verbose_name_plural = "GPU classes"

    def __str__(self):
        return self.name

    @property
    def multi_gpu_ok(self):
        """Several GPUs in one replica want NVLink between them."""
        return self.nvlink in (NvLink.YES, NvLink.PAIRS)

    @property
    def max_gpus_per_replica(self):
        """GPUs one replica gets with NVLink between all of them; more are allowed, with a warning (over PCIe)."""
        return {NvLink.YES: 8, NvLink.PAIRS: 2}.get(self.nvlink, 1)


class GpuPrice(models.Model):
    """Price history: the price in force from `valid_from` until the next row."""

    gpu_class = models.ForeignKey(GpuClass, on_delete=models.CASCADE, related_name="prices")
    price_per_gpu_hour = models.DecimalField(max_digits=8, decimal_places=4)
    valid_from = models.DateTimeField(db_index=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["gpu_class", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["gpu_class", "valid_from"], name="one_price_per_instant")
        ]

    def __str__(self):
        return f"{self.gpu_class} {money_rate(self.price_per_gpu_hour)}/GPU-hour from {day(self.valid_from)}"


# Empty: pods use the endpoint their storage Secret gives (catalog.selectors.region_endpoints).
OBJECT_ENDPOINT_HELP = ("The S3-compatible object storage endpoint that pods in this region read models from; "
                        "empty: the one in the model's storage Secret.")
ACCELERATED_ENDPOINT_HELP = ("The platform's accelerated (cached, node-local) object storage endpoint, reachable from "
                             "pods inside its clusters; empty: the one in the model's storage Secret.")


class Region(models.Model):
    code = models.CharField(max_length=32, unique=True, help_text="topology.kubernetes.io/region value")
    name = models.CharField(max_length=100)
    available = models.BooleanField(default=True)
    # The S3 endpoints the pods of this region read models from; the storage tier picks one (specs/recommend.py).
    # The console is vendor-neutral; the seeded values are CoreWeave's pair (migration 0005 names the source).
    object_endpoint = models.URLField(
        max_length=200, blank=True, help_text=OBJECT_ENDPOINT_HELP)
    accelerated_endpoint = models.URLField(
        max_length=200, blank=True, help_text=ACCELERATED_ENDPOINT_HELP)
    gpu_classes = models.ManyToManyField(GpuClass, through="RegionOffering", related_name="regions")

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


# Free GPUs assumed for an offering before its cluster has reported and without staff's number: the
# default the typed field had before clusters reported capacity.
DEFAULT_FREE_GPUS = 64


class RegionOffering(models.Model):
    """A GPU class offered in a region, with how many GPUs are free there now (available_gpus)."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="offerings")
    gpu_class = models.ForeignKey(GpuClass, on_delete=models.CASCADE, related_name="offerings")
    override_gpus = models.PositiveIntegerField(
        null=True, blank=True, verbose_name="free GPUs (override)",
        help_text="Staff's number of free GPUs, used instead of what the region's cluster reports (a cluster "
                  "that cannot see all its capacity, a reservation). Leave empty to use the cluster's report.")
    # Written by deployments.services.capacity.capacity_refresh from the region's cluster.
    reported_free = models.PositiveIntegerField(
        null=True, blank=True, editable=False, verbose_name="free GPUs (reported)",
        help_text="Allocatable GPUs on the nodes of this class and region minus what pods request.")
    reported_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["region", "gpu_class"]
        constraints = [models.UniqueConstraint(fields=["region", "gpu_class"], name="one_offering")]

    def __str__(self):
        return f"{self.gpu_class} in {self.region}"

    @property
    def available_source(self):
        """Where available_gpus comes from: "override", "reported" or "default"."""
        if self.override_gpus is not None:
            return "override"
        return "reported" if self.reported_free is not None else "default"

    @property
    def available_gpus(self):
        """The GPUs free here now, the one rule: staff's override when set, else the cluster's report, else
        DEFAULT_FREE_GPUS. A draining cluster's regions count 0 for new placements (catalog.selectors)."""
        return {"override": self.override_gpus, "reported": self.reported_free}.get(
            self.available_source, DEFAULT_FREE_GPUS)

    @available_gpus.setter
    def available_gpus(self, value):
        # The old field's writer is the catalog seed (0002, re-run by the tests after a flush): its numbers
        # are estimates, which the cluster's first report replaces (as 0007 moved them), not staff's override.
        self.reported_free = value


class StorageTier(models.Model):
    slug = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    best_for = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    read_gbps = models.DecimalField(
        max_digits=6, decimal_places=2, help_text="Typical read throughput in GB/s, for cold-start estimates"
    )
    price_per_gb_month = models.DecimalField(max_digits=8, decimal_places=4, default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return self.slug


class ModelFamily(models.Model):
    """An open model's architecture, as its config.json gives it: what the KV cache per token depends on.

    A spec naming `model.family` gets these numbers, so nobody has to copy them from config.json.
    """

    name = models.CharField(max_length=100, unique=True, help_text="e.g. meta-llama/Meta-Llama-3-8B")
    layers = models.PositiveIntegerField(help_text="num_hidden_layers")
    kv_heads = models.PositiveIntegerField(help_text="num_key_value_heads")
    head_dim = models.PositiveIntegerField(help_text="hidden_size / num_attention_heads")
    source = models.CharField(max_length=300, blank=True, help_text="Where the numbers come from")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "model families"

    def __str__(self):
        return self.name


class CpuRate(models.Model):
    """What a pod without a GPU (`compute.accelerator: cpu`) costs: per vCPU-hour and per GB-hour of RAM.

    History like GpuPrice: the rate in force is the newest row whose `valid_from` has passed. GPU rates
    include the host's CPU and RAM; CoreWeave bills a pod without a GPU by the vCPUs it requests (or uses,
    if more) and its RAM (docs.coreweave.com/resources/billing-and-charges; catalog-facts.md: $0.01 per
    vCPU-hour, $0.005 per GB-hour).
    """

    price_per_vcpu_hour = models.DecimalField(max_digits=8, decimal_places=4)
    price_per_gb_hour = models.DecimalField(max_digits=8, decimal_places=4, help_text="Per GB of RAM requested")
    valid_from = models.DateTimeField(unique=True, db_index=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = "CPU rate"

    def __str__(self):
        return (f"{money_rate(self.price_per_vcpu_hour)}/vCPU-hour, {money_rate(self.price_per_gb_hour)}/GB-hour "
                f"from {day(self.valid_from)}")
