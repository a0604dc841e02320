#!/bin/sh
# The vision task APIs with curl. RUNTIME is the runtime's base URL (kubectl port-forward, the MLService
# endpoint, or `npm start` locally); add -H "Authorization: Bearer $MLOFFLOAD_API_KEY" when the runtime
# has API keys configured.
set -eu
RUNTIME=${RUNTIME:-http://localhost:8080}
PHOTO=${1:-node_modules/@vladmandic/face-api/demo/sample6.jpg}

# Facial expressions (the flagship): the image as a raw body with its media type.
curl -sS -X POST "$RUNTIME/v1/vision/facial-expressions" \
  -H 'Content-Type: image/jpeg' --data-binary "@$PHOTO"
echo

# The same as a multipart upload (field "image"), with options as form fields.
curl -sS -X POST "$RUNTIME/v1/vision/facial-expressions" \
  -F "image=@$PHOTO;type=image/jpeg" -F minScore=0.5 -F maxFaces=3
echo

# JSON with base64 (what a browser or a phone app without multipart support sends).
printf '{"image": {"b64": "%s"}, "maxFaces": 2}' "$(base64 -w0 "$PHOTO")" |
  curl -sS -X POST "$RUNTIME/v1/vision/facial-expressions" -H 'Content-Type: application/json' --data-binary @-
echo

# A photo that already is one face: skip detection.
curl -sS -X POST "$RUNTIME/v1/vision/facial-expressions?crop=false" \
  -H 'Content-Type: image/jpeg' --data-binary "@$PHOTO"
echo

# Faces only (boxes, 6 landmarks, scores), and COCO objects.
curl -sS -X POST "$RUNTIME/v1/vision/faces?minScore=0.5&maxFaces=10" -H 'Content-Type: image/jpeg' --data-binary "@$PHOTO"
echo
curl -sS -X POST "$RUNTIME/v1/vision/objects?minScore=0.3&maxResults=5" -H 'Content-Type: image/jpeg' --data-binary "@$PHOTO"
echo
