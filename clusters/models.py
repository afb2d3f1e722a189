"""The clusters Gantry deploys to, one per region or more, declared by staff in the admin console.

A record holds only a reference to where a cluster's credentials are mounted (a kubeconfig file,
e.g. a Secret mounted into the pod, with a context) or "in-cluster"; never a token or a certificate.
Without any record, everything goes to the default cluster of settings.KUBECONFIG, as before.
"""

import os

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from .client import ClusterRef


class Cluster(models.Model):
    class Connection(models.TextChoices):
        KUBECONFIG = "kubeconfig", "Kubeconfig file (or a mounted Secret's path)"
        IN_CLUSTER = "in_cluster", "In-cluster service account"

    name = models.CharField(max_length=63, unique=True, validators=[RegexValidator(
        r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "Lower-case letters, digits and dashes, like a Kubernetes name.")])
    regions = models.ManyToManyField(
        "catalog.Region", related_name="clusters", blank=True,
        help_text="The regions this cluster serves: a deployment's region decides its cluster.")
    connection = models.CharField(max_length=16, choices=Connection.choices, default=Connection.KUBECONFIG)
    kubeconfig_path = models.CharField(
        max_length=500, blank=True,
        help_text="Absolute path of a kubeconfig file mounted into Gantry's pods, e.g. "
                  "/etc/gantry/clusters/ord1.kubeconfig (a key of the gantry-clusters Secret). The credentials stay in the file, never in the database.")
    context = models.CharField(max_length=253, blank=True,
                               help_text="A context of that file; empty: its current-context.")
    enabled = models.BooleanField(
        default=True, help_text="Off: the cluster is ignored and its regions go to another cluster or the default one.")
    # A draining cluster's regions count no free GPUs for new placements (catalog.selectors); its
    # deployments stay on it.
    draining = models.BooleanField(
        default=False, help_text="Keeps serving its deployments; new deployments should go elsewhere.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.connection == self.Connection.KUBECONFIG:
            if not self.kubeconfig_path:
                raise ValidationError({"kubeconfig_path": "A kubeconfig cluster needs the path of its file."})
            if not os.path.isabs(self.kubeconfig_path):
                raise ValidationError({"kubeconfig_path": "An absolute path, as mounted in Gantry's pods."})
        elif self.kubeconfig_path or self.context:
            raise ValidationError({"kubeconfig_path": "An in-cluster connection takes no kubeconfig path or context."})

    def ref(self):
        """The connection reference clusters/ calls take (`cluster=`)."""
        return ClusterRef(name=self.name, kubeconfig=self.kubeconfig_path, context=self.context,
                          in_cluster=self.connection == self.Connection.IN_CLUSTER)
