# syntax=docker/dockerfile:1
# The mloffload operator: runs in the cloud part of the cluster and reconciles MLModel/MLService.
#   docker build -f deploy/operator.Dockerfile -t <registry>/mloffload/operator:<version> .
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# npm ci needs every workspace's package.json; the client SDK itself is not part of this image.
COPY clients/typescript/package.json ./clients/typescript/package.json
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY inference-runtime ./inference-runtime
COPY operator ./operator
RUN npx tsc -p tsconfig.build.json
# Only the operator's run-time packages (js-yaml, prom-client and their dependencies, as the lockfile
# resolves them), not the runtime's tfjs/onnxruntime/sharp: a few MB instead of ~750 MB. In a pod the
# operator authenticates with its service-account token; kubeconfigs with exec or auth-provider plugins
# (which load @kubernetes/client-node) are for running it outside the cluster from a checkout.
COPY deploy/dependency-closure.mjs ./deploy/
RUN mkdir /out \
 && node deploy/dependency-closure.mjs js-yaml prom-client | xargs cp -r --parents -t /out \
 && find /out -name '*.map' -delete \
 && find dist -name '*.map' -delete

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /out/node_modules ./node_modules
COPY --from=build /src/dist/operator ./dist/operator
# The uid of the image's `node` user, numeric so that runAsNonRoot can be verified.
USER 1000:1000
EXPOSE 8081
ENTRYPOINT ["node", "dist/operator/main.js"]
