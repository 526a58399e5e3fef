/*
 * WebSocket load generator for bench_ws.py: a separate process, so the client's cost never
 * shares the server's GIL or core. bench_ws.py compiles it (cc -O2) into a temporary
 * folder at run time.
 *
 *   ws_client HOST PORT CONNS MSG_SIZE SECONDS
 *
 * Opens CONNS connections and upgrades each to a WebSocket (GET / with Upgrade, a random
 * Sec-WebSocket-Key, version 13, no extension offered: never compressed), then prints
 * "ready" and waits for a line (or end of file) on stdin, so that the caller can take the
 * server's CPU time without the handshakes in it. Then every connection sends a masked
 * binary frame of MSG_SIZE bytes (FIN set) and waits for its echo (one unmasked binary frame
 * with the same payload, checked byte for byte), again and again, until SECONDS have
 * passed; messages in flight at the deadline are awaited. It prints one line, "ops=N
 * bytes=N seconds=F idle=F": round trips, payload bytes echoed, the elapsed time, and the
 * time the client spent polling with nothing to read (near 0: the client is the bottleneck,
 * not the server). Then it closes every WebSocket with a Close 1000, waits up to a second
 * for the servers' Close frames, and exits. Exits 1 with a message on stderr on any error.
 *
 * This is a load generator, not a conforming client: the handshake answer is checked for
 * "101" and the absence of an extension, not for the value of Sec-WebSocket-Accept, and
 * the mask keys (and the handshake key) come from xorshift64*, seeded once from
 * getrandom(), not from a CSPRNG per frame as RFC 6455 asks of real clients (the masks
 * only have to be unpredictable to intermediaries; a loopback server cannot tell).
 *
 * Like echo_client.c it busy-polls (epoll_wait with a zero timeout) and never sleeps: on
 * a VM a sleeping core can take a millisecond to wake, which would make a one-connection
 * ping-pong measure the hypervisor rather than the server.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define MAX_MSG 65536
#define MAX_HEAD 4096              /* the server's 101 answer */
#define FRAME_HEAD 14              /* 2 + 8 (length) + 4 (mask) */
#define IN_CAP (2 * (MAX_MSG + FRAME_HEAD)) /* an echo, and a control frame or two */
#define STALL_SECONDS 5.0          /* no progress for this long: the server is stuck */

#define OP_BINARY 0x2
#define OP_CLOSE 0x8
#define OP_PING 0x9
#define OP_PONG 0xa

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "ws_client: %s: %s\n", what, errno != 0 ? strerror(errno) : "failed");
  exit(1);
}

static void fail(const char *what) {
  errno = 0;
  die(what);
}

/* ---- the PRNG of mask keys (a load generator's; see the comment at the top) ---------- */

static uint64_t rng_state;

static void rng_seed(void) {
  if (getrandom(&rng_state, sizeof(rng_state), 0) != (ssize_t) sizeof(rng_state))
    die("getrandom");
  if (rng_state == 0) rng_state = 0x9e3779b97f4a7c15ull;
}

static uint64_t rng_next(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

/* ---- connections and the handshake --------------------------------------------------- */

struct conn {
  int sock;
  unsigned long seq;    /* the message in flight carries this number */
  size_t got;           /* bytes in `in` */
  int closed;           /* the server's Close arrived (closing phase) */
  unsigned char *plain; /* the payload in flight, unmasked */
  unsigned char *frame; /* the frame on the wire: head, then the masked payload */
  unsigned char *in;    /* bytes received, not yet parsed */
};

static int open_conn(const char *host, int port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short) port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) fail("bad IPv4 address");
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  if (connect(s, (struct sockaddr *) &sa, sizeof(sa)) != 0) die("connect");
  int on = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  return s;
}

static void base64(const unsigned char *in, size_t n, char *out) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    *out++ = abc[in[i] >> 2];
    *out++ = abc[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
    *out++ = abc[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
    *out++ = abc[in[i + 2] & 63];
  }
  if (i + 1 == n) {
    *out++ = abc[in[i] >> 2];
    *out++ = abc[(in[i] & 3) << 4];
    *out++ = '=';
    *out++ = '=';
  } else if (i + 2 == n) {
    *out++ = abc[in[i] >> 2];
    *out++ = abc[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
    *out++ = abc[(in[i + 1] & 15) << 2];
    *out++ = '=';
  }
  *out = '\0';
}

static int has_field(const char *head, const char *name) {
  size_t n = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n"))
    if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') return 1;
  return 0;
}

/* Sends the upgrade request and reads the answer (blocking, 5 s timeout); bytes after the
 * answer's head are kept in c->in as the start of the first frame. */
static void handshake(struct conn *c, const char *host, int port) {
  unsigned char key[16];
  uint64_t a = rng_next(), b = rng_next();
  memcpy(key, &a, 8);
  memcpy(key + 8, &b, 8);
  char key64[25], req[512];
  base64(key, sizeof(key), key64);
  int n = snprintf(req, sizeof(req),
                   "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   host, port, key64);
  if (send(c->sock, req, (size_t) n, MSG_NOSIGNAL) != n) die("send (handshake)");
  struct timeval tv = {.tv_sec = 5};
  setsockopt(c->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char head[MAX_HEAD + 1];
  size_t got = 0;
  char *end = NULL;
  while (end == NULL) {
    if (got == MAX_HEAD) fail("handshake answer too long");
    ssize_t r = recv(c->sock, head + got, MAX_HEAD - got, 0);
    if (r == 0) fail("the server closed during the handshake");
    if (r < 0) die("recv (handshake)");
    got += (size_t) r;
    head[got] = '\0';
    end = strstr(head, "\r\n\r\n");
  }
  size_t head_len = (size_t) (end + 4 - head);
  *end = '\0';
  if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
    fprintf(stderr, "ws_client: handshake refused: %.60s\n", head);
    exit(1);
  }
  if (has_field(head, "Sec-WebSocket-Extensions")) fail("the server chose an extension");
  c->got = got - head_len;
  memcpy(c->in, head + head_len, c->got);
  tv.tv_sec = 0;
  setsockopt(c->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* ---- frames ------------------------------------------------------------------------ */

/* Writes a masked client frame (FIN | op, `n` bytes of `payload`) into `out`; returns its
 * length. */
static size_t make_frame(unsigned char *out, int op, const unsigned char *payload, size_t n) {
  size_t h = 0;
  out[h++] = (unsigned char) (0x80 | op);
  if (n < 126) {
    out[h++] = (unsigned char) (0x80 | n);
  } else if (n <= 65535) {
    out[h++] = 0x80 | 126;
    out[h++] = (unsigned char) (n >> 8);
    out[h++] = (unsigned char) n;
  } else {
    out[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) out[h++] = (unsigned char) ((uint64_t) n >> (8 * i));
  }
  uint32_t key = (uint32_t) (rng_next() >> 32);
  memcpy(out + h, &key, 4);
  h += 4;
  uint64_t key8 = (uint64_t) key << 32 | key; /* the key repeated, in memory order */
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, payload + i, 8);
    w ^= key8;
    memcpy(out + h + i, &w, 8);
  }
  for (; i < n; i++) out[h + i] = payload[i] ^ out[h - 4 + (i & 3)];
  return h + n;
}

static void send_all(int sock, const unsigned char *p, size_t n) {
  /* One message in flight per connection: the socket buffer is never full. */
  if (send(sock, p, n, MSG_NOSIGNAL) != (ssize_t) n) die("send");
}

static void send_next(struct conn *c, size_t size) {
  c->seq++;
  memset(c->plain, 'a' + (int) (c->seq % 26), size);
  memcpy(c->plain, &c->seq, size < sizeof(c->seq) ? size : sizeof(c->seq));
  send_all(c->sock, c->frame, make_frame(c->frame, OP_BINARY, c->plain, size));
}

/* The next complete frame in c->in: 1 with its opcode byte, payload and total length; 0
 * when incomplete. A masked, oversized or non-minimal frame from the server is fatal. */
static int next_frame(struct conn *c, unsigned char *b0, unsigned char **payload,
                      size_t *payload_len, size_t *total) {
  const unsigned char *p = c->in;
  if (c->got < 2) return 0;
  if (p[1] & 0x80) fail("a masked frame from the server");
  size_t h = 2, n = p[1] & 0x7f;
  if (n == 126) {
    if (c->got < 4) return 0;
    n = (size_t) p[2] << 8 | p[3];
    h = 4;
  } else if (n == 127) {
    if (c->got < 10) return 0;
    uint64_t v = 0;
    for (int i = 2; i < 10; i++) v = v << 8 | p[i];
    if (v > MAX_MSG) fail("a frame longer than the client takes");
    n = (size_t) v;
    h = 10;
  }
  if (n > MAX_MSG) fail("a frame longer than the client takes");
  if (c->got < h + n) return 0;
  *b0 = p[0];
  *payload = c->in + h;
  *payload_len = n;
  *total = h + n;
  return 1;
}

static void consume(struct conn *c, size_t n) {
  c->got -= n;
  if (c->got > 0) memmove(c->in, c->in + n, c->got);
}

/* Reads what the socket has into c->in; 0 when nothing was there. */
static int read_some(struct conn *c) {
  ssize_t r = recv(c->sock, c->in + c->got, IN_CAP - c->got, MSG_DONTWAIT);
  if (r == 0) fail("recv (the server closed the connection)");
  if (r < 0) {
    if (errno == EAGAIN || errno == EINTR) return 0;
    die("recv");
  }
  c->got += (size_t) r;
  return 1;
}

/* Answers a Ping with a Pong (none comes in short runs; a server may ping when idle). */
static void pong(struct conn *c, const unsigned char *payload, size_t n) {
  unsigned char out[FRAME_HEAD + 125];
  send_all(c->sock, out, make_frame(out, OP_PONG, payload, n));
}

static int make_epoll(void) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  return ep;
}

/* epoll_wait without sleeping; adds the time it found nothing to *idle; dies after
 * STALL_SECONDS without an event. */
static int spin_wait(int ep, struct epoll_event *events, int max, double *idle) {
  double since = 0;
  for (;;) {
    int n = epoll_wait(ep, events, max, 0);
    if (n > 0) {
      if (since != 0) *idle += now() - since;
      return n;
    }
    if (n < 0 && errno != EINTR) die("epoll_wait");
    double t = now();
    if (since == 0)
      since = t;
    else if (t - since > STALL_SECONDS)
      fail("no progress for 5 s");
  }
}

/* The Close handshake on every connection, at most one second in all. */
static void close_all(struct conn *conns, int nconns, int ep) {
  static const unsigned char code[2] = {1000 >> 8, 1000 & 0xff};
  unsigned char out[FRAME_HEAD + 2];
  int open = nconns;
  for (int i = 0; i < nconns; i++)
    send_all(conns[i].sock, out, make_frame(out, OP_CLOSE, code, sizeof(code)));
  double deadline = now() + 1.0;
  struct epoll_event events[MAX_CONNS];
  while (open > 0 && now() < deadline) {
    int n = epoll_wait(ep, events, MAX_CONNS, 10);
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c->closed) continue;
      ssize_t r = recv(c->sock, c->in + c->got, IN_CAP - c->got, MSG_DONTWAIT);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        c->closed = 1; /* closed without a Close frame: nothing more to wait for */
        open--;
        continue;
      }
      c->got += (size_t) r;
      unsigned char b0, *payload;
      size_t len, total;
      while (!c->closed && next_frame(c, &b0, &payload, &len, &total)) {
        if ((b0 & 0x0f) == OP_CLOSE) {
          c->closed = 1;
          open--;
        }
        consume(c, total);
      }
    }
  }
  for (int i = 0; i < nconns; i++) close(conns[i].sock);
}

static int run(const char *host, int port, int nconns, size_t size, double seconds) {
  if (nconns < 1 || nconns > MAX_CONNS || size < 1 || size > MAX_MSG)
    fail("CONNS must be 1..1024 and MSG_SIZE 1..65536");
  rng_seed();
  struct conn *conns = calloc((size_t) nconns, sizeof(*conns));
  if (conns == NULL) die("calloc");
  int ep = make_epoll();
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    c->plain = malloc(size);
    c->frame = malloc(size + FRAME_HEAD);
    c->in = malloc(IN_CAP);
    if (c->plain == NULL || c->frame == NULL || c->in == NULL) die("malloc");
    c->sock = open_conn(host, port);
    handshake(c, host, port);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->sock, &ev) != 0) die("epoll_ctl");
  }
  printf("ready\n");
  fflush(stdout);
  for (int ch; (ch = getchar()) != EOF && ch != '\n';) {
  }

  double idle = 0, start = now(), deadline = start + seconds;
  for (int i = 0; i < nconns; i++) send_next(&conns[i], size);
  unsigned long done = 0;
  int in_flight = nconns;
  struct epoll_event events[MAX_CONNS];
  while (in_flight > 0) {
    int n = spin_wait(ep, events, MAX_CONNS, &idle);
    double t = now();
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (!read_some(c)) continue;
      unsigned char b0, *payload;
      size_t len, total;
      while (next_frame(c, &b0, &payload, &len, &total)) {
        int op = b0 & 0x0f;
        if (op == OP_PING) {
          pong(c, payload, len);
        } else if (op == OP_CLOSE) {
          fail("the server sent a Close");
        } else if (op != OP_PONG) {
          if (b0 != (0x80 | OP_BINARY) || len != size || memcmp(payload, c->plain, size) != 0)
            fail("the echo differs from the message");
          if (c->seq == 0) fail("an echo nothing was sent for");
          done++;
          if (t < deadline) {
            consume(c, total);
            send_next(c, size);
            continue;
          }
          in_flight--;
          c->seq = 0; /* nothing in flight any more */
        }
        consume(c, total);
      }
    }
  }
  double elapsed = now() - start;
  printf("ops=%lu bytes=%lu seconds=%.6f idle=%.6f\n", done, done * size, elapsed, idle);
  fflush(stdout);
  close_all(conns, nconns, ep);
  for (int i = 0; i < nconns; i++) {
    free(conns[i].plain);
    free(conns[i].frame);
    free(conns[i].in);
  }
  free(conns);
  close(ep);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 6)
    return run(argv[1], atoi(argv[2]), atoi(argv[3]), (size_t) atol(argv[4]), atof(argv[5]));
  fprintf(stderr, "usage: %s HOST PORT CONNS MSG_SIZE SECONDS\n", argv[0]);
  return 2;
}
