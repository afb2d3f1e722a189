# Gantry's images. The runtime image (the default target) serves web (gunicorn), worker, beat and the watcher: the
# command picks the role. The sandbox target adds the sandbox Kubernetes API for the demo (docker-compose.yml,
# k8s/overlays/demo) and needs the upstream CRDs as a second build context:
#   docker build -t gantry .
#   docker build --target sandbox --build-context crds=../shared/crds -t gantry-sandbox .

# The browser assets (chart.js) from package-lock.json; npm stays in this stage.
FROM node:22-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# The Python packages from the lock file (every one pinned with its hashes), in a venv copied as a whole.
FROM python:3.12-slim-bookworm AS build
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install --require-hashes -r requirements/base.txt
COPY . .
COPY --from=assets /build/node_modules ./node_modules
# The project itself (its console scripts), then the static files: hashed names and gzip/brotli copies when
# settings.STORAGES uses whitenoise's CompressedManifestStaticFilesStorage (whitenoise docs, "Using WhiteNoise
# with Django"). node_modules is only read here; the runtime image has the collected copies.
RUN pip install --no-deps -e . \
    && DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && rm -rf node_modules \
    && python -m compileall -q /app /opt/venv

# What both images run: the venv and the app, owned by root and not writable by the app (the pods also mount
# the root filesystem read-only: k8s/base).
# HOME=/tmp: the only writable place; gunicorn 27 puts its control socket in $HOME/.gunicorn (gunicorn/config.py,
# control_socket).
FROM python:3.12-slim-bookworm AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH HOME=/tmp
# /sandbox: docker-compose's volume for the kubeconfig the sandbox writes takes the owner of the directory it is
# first mounted on, in whichever image mounts it first.
RUN groupadd --system --gid 10001 gantry \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp gantry \
    && mkdir /sandbox && chown 10001:10001 /sandbox
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001

# The demo's sandbox: the app plus the sandbox extra (requirements/sandbox.txt) and the CRDs it validates
# against, at CRDS_DIR (sandbox/crdschema.py).
FROM app AS sandbox
USER root
COPY requirements/sandbox.txt /tmp/sandbox.txt
RUN pip install --no-cache-dir --require-hashes -r /tmp/sandbox.txt && rm /tmp/sandbox.txt
COPY --from=crds . /crds
ENV CRDS_DIR=/crds
USER 10001:10001
EXPOSE 8001
CMD ["python", "-m", "sandbox", "--host", "0.0.0.0", "--port", "8001", "--kubeconfig", "/sandbox/kubeconfig"]

# The production image, the default target (the last stage).
FROM app AS runtime
EXPOSE 8000
CMD ["gunicorn", "-c", "portal/gunicorn_conf.py", "portal.wsgi:application"]
