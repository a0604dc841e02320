# syntax=docker/dockerfile:1
# The inference runtime for edge nodes. The default pool's weights ship inside the @vladmandic/human npm
# package, so the image needs no download on the node; the model cache (a hostPath in the Deployment the
# operator writes) keeps fetched models across restarts while the cloud is unreachable.
#   docker build -f deploy/inference-runtime.Dockerfile -t <registry>/mloffload/inference-runtime:<version> .
#   (docker buildx build --platform linux/amd64,linux/arm64 ... for arm64 edge nodes)
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
COPY clients/typescript/package.json ./clients/typescript/package.json
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY inference-runtime ./inference-runtime
COPY operator ./operator
# The client SDK's ES modules: the demo page loads them from /demo/sdk/.
COPY clients/typescript ./clients/typescript
# Production packages only; source maps and the onnxruntime-node libraries of other operating systems and
# CPU architectures are dead weight on a node (763 MB -> 303 MB measured on linux x64).
RUN npm run build && npm prune --omit=dev \
 && find node_modules dist -name '*.map' -delete \
 && arch=$(node -p process.arch) \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 ! -name "$arch" -exec rm -rf {} +

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    MLOFFLOAD_MODEL_CACHE=/var/lib/mloffload/models
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/inference-runtime ./dist/inference-runtime
COPY --from=build /src/inference-runtime/static ./inference-runtime/static
COPY --from=build /src/clients/typescript/dist ./clients/typescript/dist
COPY --from=build /src/inference-runtime/config/pool.schema.json ./dist/inference-runtime/config/pool.schema.json
RUN mkdir -p /var/lib/mloffload/models && chown -R node:node /var/lib/mloffload
# The uid of the image's `node` user, numeric so that runAsNonRoot can be verified (the operator's
# Deployments also set runAsUser 1000).
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "dist/inference-runtime/main.js"]
