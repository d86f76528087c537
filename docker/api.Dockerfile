# API image. Targets: dev (all deps; docker-compose.override.yml runs it in watch mode) and prod
# (runtime deps only, non-root).
# Build from the repo root: docker build -f docker/api.Dockerfile --target prod .

FROM node:20-bookworm-slim AS base
WORKDIR /app

FROM base AS build
COPY package.json package-lock.json ./
# Install scripts stay off, as with npm 11 locally: the native addons we use ship prebuilt.
RUN npm ci --ignore-scripts
COPY tsconfig.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build

FROM build AS dev
ENV PORT=8010 SHARED_DIR=/shared
# git for the dev container (.devcontainer/), which opens this image with the checkout mounted.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
 && rm -rf /var/lib/apt/lists/*
# uid 1000 owns /shared in every image, so a fresh named volume is writable by all services, and
# owns /app here: the dev container (docker-compose.override.yml) runs npm ci as that user.
RUN install -d -o node -g node /shared && chown -R node:node /app
USER 1000:1000
EXPOSE 8010
CMD ["npm", "run", "start:api"]

FROM base AS prod
ENV NODE_ENV=production PORT=8010 SHARED_DIR=/shared
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force \
 && install -d -o node -g node /shared
# Code stays root-owned: the service cannot rewrite itself.
COPY --from=build /app/dist ./dist
USER 1000:1000
EXPOSE 8010
# Slim images have no curl; Node 20's fetch does the probe. /healthz is 503 while a dependency is down.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8010)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/apps/api/main.js"]
