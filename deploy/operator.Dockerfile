# syntax=docker/dockerfile:1
# The mloffload operator: runs in the cloud part of the cluster and reconciles MLModel/MLService.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY inference-runtime ./inference-runtime
COPY operator ./operator
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER node
EXPOSE 8081
ENTRYPOINT ["node", "dist/operator/main.js"]
