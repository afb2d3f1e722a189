"""The detail response, DeploymentDetailSerializer's shape, from serializers built once per process.

A DRF serializer deep-copies its declared fields each time it is instantiated: for the detail, with the
spec's nested sections, about 90 fields per response, more than the rest of a create's response took. The
pieces here hold no request state (no context, no method field reading it), so one instance of each serves
every request; to_representation only reads them. tests/deployments/test_api_detail.py holds the output
equal to DeploymentDetailSerializer's for the same deployments.
"""

from .serializers import DeploymentSerializer, SpendSummarySerializer
from .spec_serializers import DeploymentSpecSerializer

_DEPLOYMENT = DeploymentSerializer()
_SPEC = DeploymentSpecSerializer()
_SPEND = SpendSummarySerializer()


def deployment_detail_data(deployment, spend):
    """DeploymentDetailSerializer(deployment, context={"spend": spend}).data, field for field."""
    revision = deployment.current_revision
    spec = revision.spec if revision is not None else None
    return {
        **_DEPLOYMENT.to_representation(deployment),
        "spec": _SPEC.to_representation(spec) if spec is not None else None,
        "spend": _SPEND.to_representation(spend) if spend is not None else None,
    }
