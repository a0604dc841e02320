# The mloffload operator: runs in the cloud part of the cluster and reconciles MLModel/MLService. Built by
# `npm run images` (deploy/images/build.ts) from the context it prepares: the same base.tar and node.tar as
# the runtime image, and app.tar with the compiled operator and only the packages it imports.
FROM scratch
ADD base.tar /
ADD node.tar /
ADD app.tar /
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    NODE_ENV=production
WORKDIR /app
USER 1000:1000
EXPOSE 8081
# main.js stops its controllers and releases its Lease on SIGTERM, as PID 1 without an init process.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/operator/main.js"]
