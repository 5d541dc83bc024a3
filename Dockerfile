# Web and worker image: one image, two commands. Production runs the compiled JavaScript
# (`npm run build` → dist/): `node dist/server/index.js` (the default, with the web's heap
# limits) and `node dist/jobs/worker.js`; the CLI is `node dist/server/cli/index.js`. tsx is for
# development only.

# Production dependencies. The build tools let argon2 compile itself where its prebuilt binary
# does not load (package.json approves its install script); they stay out of the final image.
FROM node:20-slim AS deps
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# Build: every dependency (TypeScript included), then the compiled code, its assets and migrations.
FROM deps AS build
RUN npm ci
COPY . .
RUN npm run build

# Run: production dependencies and dist/ only.
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist

USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The web's V8 heap limits, as docker-compose.yml's web command (docs/benchmarks.md, "Memory of
# the web process").
CMD ["node", "--max-old-space-size=128", "--max-semi-space-size=4", "dist/server/index.js"]
