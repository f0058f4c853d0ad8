# chain-canary gateway. Node 22 LTS (the code runs on Node 20 and 22 alike).
FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# tsx runs the TypeScript sources directly; dev dependencies (tests, Unleash for e2e) stay out.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY public ./public
COPY tsconfig.json ./
ENV HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER node
CMD ["node", "bin/chain-canary.js", "serve"]
