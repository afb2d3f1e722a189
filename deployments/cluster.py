"""The only code that talks to a Kubernetes API (placeholder until the cluster issue lands)."""


class ClusterError(Exception):
    def __init__(self, message, permanent=False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def cluster_ping():
    raise ClusterError("no cluster configured", permanent=True)
