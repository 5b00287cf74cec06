package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// bareLFForgery asks, over a bare socket as messenger:bob, for alice's
// presence with a forged Nats-Request-Info (instagram:eve) behind a bare
// LF: nats-server does not strip that copy, and nats.go alone would read
// it first. The service's connection reads headers as the server writes
// them (package headerguard), so the request is refused as malformed.
func (d *demo) bareLFForgery(ctx context.Context, story *seed.Story) error {
	forged := fmt.Sprintf(`{"acc":%q,"user":%q}`, aliceApp, seed.Eve)
	block := "NATS/1.0\r\nX-A: b\n" + identity.RequestInfoHeader + ": " + forged + "\r\n\r\n"
	body := fmt.Sprintf(`{"account":%q,"min_seq":%d}`, seed.Alice, story.Seq())
	status, reply, err := d.rawRequest(ctx, bob, api.QuerySubject("presence"), block, body)
	if err != nil {
		return refusal("the bare-LF forgery: %v", err)
	}
	var e api.ErrorBody
	_ = json.Unmarshal(reply, &e)
	if status != "400" || e.Error.Code != api.CodeInvalidRequest {
		return refusal("%s's presence query with a forged %s behind a bare LF: got %q %s, want 400 %s",
			bob, identity.RequestInfoHeader, status, reply, api.CodeInvalidRequest)
	}
	d.ok("%s, over a bare socket, hides a forged %s claiming %s behind a bare LF: refused, 400 %s (%s)",
		bob, identity.RequestInfoHeader, seed.Eve, e.Error.Code, e.Error.Message)
	return nil
}

// rawRequest sends one HPUB with block as is, as principal, and returns
// the reply's Nats-Service-Error-Code and body: nats.go cannot send a
// header block that breaks the CRLF grammar, a hostile client can.
func (d *demo) rawRequest(ctx context.Context, principal, subject, block, body string) (string, []byte, error) {
	cr, err := d.cfg.Lookup(principal)
	if err != nil {
		return "", nil, err
	}
	u, err := url.Parse(d.node.Conn().ConnectedUrl())
	if err != nil {
		return "", nil, err
	}
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return "", nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(refusalWait))
	connect, _ := json.Marshal(map[string]any{"user": cr.User, "pass": cr.Password, "headers": true, "protocol": 1})
	inbox := natsconf.InboxPrefix(cr.Kind, cr.Principal) + ".raw"
	if _, err := fmt.Fprintf(c, "CONNECT %s\r\nSUB %s 1\r\nHPUB %s %s %d %d\r\n%s%s\r\n",
		connect, inbox, subject, inbox, len(block), len(block)+len(body), block, body); err != nil {
		return "", nil, err
	}
	return readRawReply(bufio.NewReader(c))
}

// readRawReply reads protocol lines until the first message and returns
// its error status and body.
func readRawReply(r *bufio.Reader) (string, []byte, error) {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", nil, err
		}
		f := strings.Fields(line)
		if len(f) == 0 || (f[0] != "MSG" && f[0] != "HMSG") {
			if len(f) > 0 && f[0] == "-ERR" {
				return "", nil, fmt.Errorf("server: %s", strings.TrimSpace(line))
			}
			continue
		}
		hdr, _ := strconv.Atoi(f[len(f)-2])
		total, err := strconv.Atoi(f[len(f)-1])
		if f[0] == "MSG" {
			hdr = 0
		}
		buf := make([]byte, total+2)
		if _, err2 := io.ReadFull(r, buf); err != nil || err2 != nil {
			return "", nil, fmt.Errorf("reply: %v %v", err, err2)
		}
		_, status, _ := strings.Cut(string(buf[:hdr]), "Nats-Service-Error-Code: ")
		status, _, _ = strings.Cut(status, "\r\n")
		return status, buf[hdr:total], nil
	}
}
