from rest_framework import serializers

from catalog.models import GpuClass, NvLink, Region, StorageTier


class GpuRegionSerializer(serializers.Serializer):
    code = serializers.CharField(source="region.code")
    available_gpus = serializers.IntegerField(
        help_text="GPUs of this class free in the region now: what the region's cluster reports (allocatable minus "
                  "requested), unless platform staff set a number")


class GpuClassSerializer(serializers.ModelSerializer):
    name = serializers.CharField(help_text="The `gpu.nvidia.com/class` node label; use it as `compute.gpu_class`")
    nvlink = serializers.ChoiceField(choices=NvLink.choices)
    price_per_gpu_hour = serializers.DecimalField(max_digits=8, decimal_places=4, coerce_to_string=False)
    max_gpus_per_replica = serializers.IntegerField(
        read_only=True, help_text="GPUs one replica links with NVLink (8 full mesh, 2 bridged pairs, 1 none); more "
        "are allowed over PCIe, with the warning tensor_parallel_over_pcie")
    regions = GpuRegionSerializer(source="offerings", many=True, read_only=True)

    class Meta:
        model = GpuClass
        fields = ["name", "display_name", "vram_gb", "nvlink", "infiniband", "price_per_gpu_hour",
                  "available", "max_gpus_per_replica", "regions"]


class RegionGpuSerializer(serializers.Serializer):
    gpu_class = serializers.CharField(source="gpu_class.name")
    available_gpus = serializers.IntegerField()


class RegionSerializer(serializers.ModelSerializer):
    code = serializers.CharField(help_text="Use it as `compute.region`")
    gpu_classes = RegionGpuSerializer(source="offerings", many=True, read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "available", "gpu_classes"]


class StorageTierSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(help_text="Use it as `storage.tier`")
    read_gbps = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    price_per_gb_month = serializers.DecimalField(max_digits=8, decimal_places=4, coerce_to_string=False)

    class Meta:
        model = StorageTier
        fields = ["slug", "name", "best_for", "notes", "read_gbps", "price_per_gb_month"]
