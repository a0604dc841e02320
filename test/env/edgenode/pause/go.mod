// The sandbox ("pause") process of the real edge nodes' pods, built locally so that no image is pulled.
module mloffload.dev/test/env/edgenode/pause

go 1.26.0
