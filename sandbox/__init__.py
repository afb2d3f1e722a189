"""A local Kubernetes API (kmock-based) plus a simulator of the Knative autoscaler,
the KServe controller and the Argo controller, for tests and for the demo.

Imports are lazy so that `sandbox.crdschema` stays cheap to import.
"""

__all__ = ["SandboxCluster", "kubeconfig_write"]


def __getattr__(name):
    if name in __all__:
        from . import harness

        return getattr(harness, name)
    raise AttributeError(name)
