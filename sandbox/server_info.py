"""What the sandbox says about itself: /version, and the health endpoints' answer."""

# The shape of k8s.io/apimachinery pkg/version.Info; the release is the one the sandbox imitates.
VERSION_INFO = {"major": "1", "minor": "31", "gitVersion": "v1.31.4-gantry-sandbox",
                "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b", "gitTreeState": "clean",
                "buildDate": "2024-12-10T00:00:00Z", "goVersion": "go1.22.9", "compiler": "gc",
                "platform": "linux/amd64"}

# /healthz, /livez and /readyz answer 200 "ok" in text/plain (k8s.io/apiserver pkg/server/healthz).
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")
