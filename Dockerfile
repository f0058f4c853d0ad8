# chain-canary gateway. Node 22 LTS (the code runs on Node 20 and 22 alike).
# Build stage: compile the TypeScript sources (dev dependencies stay here).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies and the compiled gateway. The server runs as plain
# JavaScript (no TypeScript loader in the process: less memory); the CLI (bin/) still runs the
# sources through tsx, which is why they are here too.
FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY public ./public
COPY tsconfig.json ./
ENV HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER node
# The GC settings of `npm start` (package.json): a smaller young generation and an old generation
# grown by 30% of what survives, not up to 4x, keep RSS flat under load (README: Production setup, Performance).
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=30", "dist/cli.js", "serve"]
