# syntax=docker/dockerfile:1
# The inference runtime for edge nodes. The default pool's weights ship inside the @vladmandic/human npm
# package, so the image needs no download on the node; the model cache (a hostPath in the Deployment the
# operator writes) keeps fetched models across restarts while the cloud is unreachable.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY inference-runtime ./inference-runtime
COPY operator ./operator
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    MLOFFLOAD_MODEL_CACHE=/var/lib/mloffload/models
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/inference-runtime ./dist/inference-runtime
COPY --from=build /src/inference-runtime/static ./inference-runtime/static
COPY --from=build /src/inference-runtime/config/pool.schema.json ./dist/inference-runtime/config/pool.schema.json
RUN mkdir -p /var/lib/mloffload/models && chown -R node:node /var/lib/mloffload
USER node
EXPOSE 8080
ENTRYPOINT ["node", "dist/inference-runtime/main.js"]
