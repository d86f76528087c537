# Worker image: the BullMQ processor plus what user jobs need (CUDA runtime, Python 3.11 venv,
# bubblewrap). Targets: dev (no CUDA, for docker-compose.override.yml) and prod (the default).
# Build from the repo root: docker build -f docker/worker.Dockerfile --target prod .
#
# Sandbox privileges (granted by the compose service, nothing more): the worker runs as uid 1000
# and bwrap builds each sandbox in an unprivileged user namespace. That needs
#   seccomp=unconfined, apparmor=unconfined  Docker's default profiles deny mount/pivot_root,
#                                            which bwrap uses inside its own namespaces;
#   systempaths=unconfined                   a fresh /proc for the job's pid namespace is refused
#                                            while Docker masks paths under the container's /proc
#                                            (safe only while nothing here runs as uid 0: it makes
#                                            /proc/sys writable to root);
# and no capability at all (cap_drop: ALL; caps inside a new user namespace don't come from the
# container), no-new-privileges, and no privileged mode. The host must allow unprivileged user
# namespaces (Ubuntu >= 23.10: sysctl kernel.apparmor_restrict_unprivileged_userns=0).
# No cgroup is delegated to the container, so the sandbox falls back to rlimits here.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts stay off, as with npm 11 locally: the native addons we use ship prebuilt.
RUN npm ci --ignore-scripts
COPY tsconfig.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build

# Development (docker-compose.override.yml mounts the repo over /app and runs it in watch mode):
# all npm dependencies, bubblewrap and the job venv on Debian's Python 3.11, no CUDA. The venv
# lives outside /app, which the mount covers.
FROM build AS dev
ARG DEBIAN_FRONTEND=noninteractive
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap util-linux ca-certificates python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
COPY python/requirements-runtime.txt /tmp/requirements-runtime.txt
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements-runtime.txt
# uid 1000 (node) owns /shared and what npm ci rewrites in the dev container.
RUN install -d -o node -g node /shared && chown -R node:node /app
ENV SHARED_DIR=/shared PYTHON_BIN=/opt/venv/bin/python
USER 1000:1000
CMD ["npm", "run", "start:worker"]

FROM node:20-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM nvidia/cuda:12.6.3-runtime-ubuntu22.04 AS prod
ARG DEBIAN_FRONTEND=noninteractive
# util-linux brings setpriv, which the sandbox uses to drop to a job uid when started as root.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      bubblewrap util-linux ca-certificates python3.11 python3.11-venv \
 && rm -rf /var/lib/apt/lists/*
# Node from the official image instead of curl | bash; the binary needs only glibc and libstdc++.
COPY --from=prod-deps /usr/local/bin/node /usr/local/bin/node
# uid 1000 owns /shared in every image, so a fresh named volume is writable by all services.
RUN useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin app \
 && install -d -o app -g app /shared
WORKDIR /app
COPY python/requirements-runtime.txt ./python/
# The venv sits where scripts/setup-python.sh puts it (<repo>/.venv); jobs see it read-only.
RUN python3.11 -m venv /app/.venv \
 && /app/.venv/bin/pip install --no-cache-dir --disable-pip-version-check -r python/requirements-runtime.txt
COPY python ./python
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
ENV NODE_ENV=production SHARED_DIR=/shared VENV_DIR=/app/.venv PATH=/app/.venv/bin:$PATH
USER 1000:1000
# Healthy means a sandbox can be built here: fails when the compose grants above are missing.
HEALTHCHECK --interval=60s --timeout=10s --start-period=10s --retries=3 \
  CMD ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
CMD ["node", "dist/apps/worker/main.js"]
