# Glidepath image: Node 24 LTS, only src/ built, DNS on 53 and the API on 8053. With DATABASE_URL it
# uses that PostgreSQL; without, it runs its own (embedded) in the /var/lib/glidepath volume.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.src.json ./
COPY src ./src
RUN npx tsc -p tsconfig.src.json && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    GLIDEPATH_DNS=0.0.0.0:53,[::]:53 \
    GLIDEPATH_API=0.0.0.0:8053 \
    GLIDEPATH_DATA_DIR=/var/lib/glidepath
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY migrations ./migrations
COPY examples ./examples
# The data directory (embedded PostgreSQL, pid file, control socket) outlives the container. Not
# root: PostgreSQL refuses to run as root, and Docker (20.10+) lets any user bind port 53.
RUN mkdir -p /var/lib/glidepath && chown node:node /var/lib/glidepath
VOLUME /var/lib/glidepath
USER node
EXPOSE 53/udp 53/tcp 8053/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8053/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/glidepath.js"]
CMD ["serve"]
