// yamux-peer is the Go side of the tunnel interop test (src/tunnel/interop.test.ts): hashicorp/yamux over a
// gorilla WebSocket, speaking Kedge's stream header (u32 length + JSON). It echoes every inbound stream and opens
// -open streams of -bytes random bytes each to the TypeScript side, checking each echo by SHA-256.
//
//	yamux-peer -mode server -listen 127.0.0.1:0     prints "LISTEN ws://host:port/" then serves one session at a time
//	yamux-peer -mode client -url ws://host:port/    dials once
//
// After the streams it opened are checked it prints one line: RESULT {"opened":N,"verified":M,"errors":[...]}.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"
)

const maxHeaderBytes = 16 * 1024

type header struct {
	Kind string `json:"kind"`
}

func main() {
	mode := flag.String("mode", "server", "server or client")
	listen := flag.String("listen", "127.0.0.1:0", "server: listen address")
	url := flag.String("url", "", "client: WebSocket URL to dial")
	open := flag.Int("open", 0, "streams to open to the peer once the session is up")
	size := flag.Int("bytes", 1<<20, "bytes to send on each opened stream")
	flag.Parse()
	log.SetOutput(os.Stderr)

	switch *mode {
	case "server":
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			log.Fatalf("listen: %v", err)
		}
		fmt.Printf("LISTEN ws://%s/\n", ln.Addr())
		upgrader := websocket.Upgrader{ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10}
		err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			session, err := yamux.Server(newWSConn(ws), yamuxConfig())
			if err != nil {
				log.Printf("yamux server: %v", err)
				return
			}
			run(session, *open, *size)
		}))
		log.Fatalf("serve: %v", err)
	case "client":
		ws, _, err := websocket.DefaultDialer.Dial(*url, nil)
		if err != nil {
			log.Fatalf("dial: %v", err)
		}
		session, err := yamux.Client(newWSConn(ws), yamuxConfig())
		if err != nil {
			log.Fatalf("yamux client: %v", err)
		}
		run(session, *open, *size)
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}

func yamuxConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.KeepAliveInterval = 5 * time.Second
	c.LogOutput = os.Stderr
	return c
}

// run echoes inbound streams, opens the requested streams, reports, and returns when the session ends.
func run(session *yamux.Session, open, size int) {
	go func() {
		for {
			stream, err := session.AcceptStream()
			if err != nil {
				return
			}
			go echo(stream)
		}
	}()
	report(openStreams(session, open, size), open)
	<-session.CloseChan()
}

func echo(stream *yamux.Stream) {
	defer stream.Close()
	h, err := readHeader(stream)
	if err != nil || h.Kind != "ping-test" {
		log.Printf("stream %d: bad header %v %v", stream.StreamID(), h, err)
		return
	}
	if _, err := io.Copy(stream, stream); err != nil {
		log.Printf("stream %d: echo: %v", stream.StreamID(), err)
	}
}

func openStreams(session *yamux.Session, n, size int) []string {
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := roundTrip(session, size+i*1013); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("stream %d: %v", i, err))
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	return errs
}

func roundTrip(session *yamux.Session, size int) error {
	stream, err := session.OpenStream()
	if err != nil {
		return err
	}
	defer stream.Close()
	payload := make([]byte, size)
	if _, err := rand.Read(payload); err != nil {
		return err
	}
	if err := writeHeader(stream, header{Kind: "ping-test"}); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		if _, err := stream.Write(payload); err != nil {
			done <- err
			return
		}
		done <- stream.Close() // FIN: half-close, the echo keeps coming
	}()
	got, err := io.ReadAll(stream)
	if err != nil {
		return err
	}
	if err := <-done; err != nil {
		return err
	}
	if sha256.Sum256(got) != sha256.Sum256(payload) {
		return fmt.Errorf("echo of %d bytes differs (got %d bytes)", size, len(got))
	}
	return nil
}

func report(errs []string, opened int) {
	if errs == nil {
		errs = []string{}
	}
	out, _ := json.Marshal(map[string]any{"opened": opened, "verified": opened - len(errs), "errors": errs})
	fmt.Printf("RESULT %s\n", out)
}

func writeHeader(w io.Writer, h header) error {
	body, err := json.Marshal(h)
	if err != nil {
		return err
	}
	buf := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	_, err = w.Write(buf)
	return err
}

func readHeader(r io.Reader) (header, error) {
	var h header
	var prefix [4]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return h, err
	}
	n := binary.BigEndian.Uint32(prefix[:])
	if n > maxHeaderBytes {
		return h, fmt.Errorf("header of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return h, err
	}
	err := json.Unmarshal(body, &h)
	return h, err
}

// wsConn presents a WebSocket as a byte stream: binary messages are concatenated, boundaries carry no meaning.
type wsConn struct {
	ws     *websocket.Conn
	reader io.Reader
	wmu    sync.Mutex
}

func newWSConn(ws *websocket.Conn) *wsConn { return &wsConn{ws: ws} }

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.reader == nil {
			kind, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if kind != websocket.BinaryMessage {
				return 0, errors.New("text message on the tunnel")
			}
			c.reader = r
		}
		n, err := c.reader.Read(p)
		if errors.Is(err, io.EOF) {
			c.reader = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, bytes.Clone(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	return c.ws.Close()
}
