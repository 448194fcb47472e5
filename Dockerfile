# Glidepath image: Node 20, built TypeScript, serving DNS on 53 and the API on 8053.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    GLIDEPATH_DNS=0.0.0.0:53,[::]:53 \
    GLIDEPATH_API=0.0.0.0:8053
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY migrations ./migrations
EXPOSE 53/udp 53/tcp 8053/tcp
ENTRYPOINT ["node", "bin/glidepath.js"]
CMD ["serve"]
