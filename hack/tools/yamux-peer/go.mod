// Go peer for the tunnel interop test (src/tunnel/interop.test.ts); built into $KEDGE_CACHE/bin/yamux-peer by that test.
module github.com/faroshq/kedge/hack/tools/yamux-peer

go 1.24

require (
	github.com/gorilla/websocket v1.5.3
	github.com/hashicorp/yamux v0.1.2
)
