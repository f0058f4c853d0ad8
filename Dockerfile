# chain-canary gateway on Node 24 LTS. Base images are pinned to exact versions (bump on purpose).
# Build stage: compile the TypeScript sources (dev dependencies stay here).
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies and the compiled gateway. The server runs as plain
# JavaScript (no TypeScript loader in the process: less memory); the CLI (bin/) still runs the
# sources through tsx, which is why they are here too.
FROM node:24.22.3-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY public ./public
COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs
COPY tsconfig.json ./
ENV HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
# glibc's malloc as `npm start` sets it (README: Production setup, Process): two arenas, not one per
# thread (PGlite's and the shadow calls' threads), and blocks of 128 KiB and more given back when freed.
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
# The volume's mount point must exist and belong to the user the gateway runs as before VOLUME:
# Docker seeds a new named volume from it (owner included), so the spool, the flag backup and the
# generated admin token can be written. Without this, /data is root's and start-up stops.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
EXPOSE 8080
USER node
# /readyz is 200 while the gateway can serve (also "degraded": on its last known flags), 503 when it cannot.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["node", "deploy/healthcheck.mjs"]
# The GC settings of `npm start` (package.json): a smaller young generation and an old generation
# grown by 30% of what survives, not up to 4x, keep RSS flat under load (README: Production setup, Performance).
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=30", "--single-threaded-gc", "dist/cli.js", "serve"]
