# OmegaEngine Gateway: multi-stage build. The build stage has the compilers that better-sqlite3
# may need; the runtime stage gets the compiled JavaScript and production dependencies only,
# and runs as the unprivileged `node` user.
FROM node:20.18.1-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: `prepare` would compile before the sources are copied; the native module is built next.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
# The gateway and the web console (dist/console, served at /console).
RUN npx tsc -p tsconfig.build.json && npx tsc -p console/tsconfig.json && npx vite build -c console/vite.config.ts \
  && npm prune --omit=dev --ignore-scripts

FROM node:20.18.1-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json omega.example.yaml ./
# The embedded SQLite default and the audit spool write here; mount a volume to keep them.
RUN mkdir -p /app/data /etc/omega && chown node:node /app/data
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/index.js"]
CMD ["serve", "--config", "/etc/omega/omega.yaml"]
