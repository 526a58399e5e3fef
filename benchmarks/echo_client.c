/*
 * Load generator for bench_echo.py: a separate process, so the client's cost never shares
 * the server's GIL or core. bench_echo.py compiles it into a temporary folder at run time.
 *
 *   echo_client HOST PORT rt CONNS MSG_SIZE SECONDS
 *       CONNS connections, each sending a MSG_SIZE-byte message and waiting for its echo,
 *       again and again, until SECONDS have passed.
 *   echo_client HOST PORT bulk TOTAL_BYTES CHUNK
 *       One connection streaming TOTAL_BYTES in CHUNK-byte writes while reading the echo
 *       back at the same time, until all of it has returned.
 *
 * Every echoed byte is checked. Prints one line, "ops=N bytes=N seconds=F", where ops is
 * round trips (rt) or bytes echoed (bulk); exits 1 with a message on stderr on any error.
 *
 * The client busy-polls (epoll_wait with a zero timeout) and never sleeps: it has a core of
 * its own, and on a VM a sleeping core can take a millisecond to wake, which would make a
 * one-connection ping-pong measure the hypervisor rather than the server.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define MAX_MSG 4096
#define PATTERN_PERIOD 251 /* a prime: a misplaced chunk never lines up by accident */
#define STALL_SECONDS 5.0   /* no progress for this long: the server is stuck */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "echo_client: %s: %s\n", what, errno != 0 ? strerror(errno) : "failed");
  exit(1);
}

static int open_conn(const char *host, int port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short) port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) die("bad IPv4 address");
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  if (connect(s, (struct sockaddr *) &sa, sizeof(sa)) != 0) die("connect");
  int on = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  return s;
}

static int make_epoll(void) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  return ep;
}

/* epoll_wait without sleeping; dies after STALL_SECONDS without an event. */
static int spin_wait(int ep, struct epoll_event *events, int max) {
  double since = 0;
  for (;;) {
    int n = epoll_wait(ep, events, max, 0);
    if (n > 0) return n;
    if (n < 0 && errno != EINTR) die("epoll_wait");
    double t = now();
    if (since == 0)
      since = t;
    else if (t - since > STALL_SECONDS) {
      errno = 0;
      die("no progress for 5 s");
    }
  }
}

/* ---- round trips ------------------------------------------------------------------ */

struct conn {
  int sock;
  unsigned long seq;      /* the message in flight carries this number */
  size_t got;             /* echoed bytes of it so far */
  char out[MAX_MSG];
  char in[MAX_MSG];
};

static void send_next(struct conn *c, size_t size) {
  c->seq++;
  memset(c->out, 'a' + (int) (c->seq % 26), size);
  memcpy(c->out, &c->seq, size < sizeof(c->seq) ? size : sizeof(c->seq));
  c->got = 0;
  /* One small message in flight per connection: the socket buffer is never full. */
  if (send(c->sock, c->out, size, MSG_NOSIGNAL) != (ssize_t) size) die("send");
}

static int round_trips(const char *host, int port, int nconns, size_t size, double seconds) {
  if (nconns < 1 || nconns > MAX_CONNS || size < 1 || size > MAX_MSG) {
    errno = 0;
    die("CONNS must be 1..1024 and MSG_SIZE 1..4096");
  }
  struct conn *conns = calloc((size_t) nconns, sizeof(*conns));
  if (conns == NULL) die("calloc");
  int ep = make_epoll();
  for (int i = 0; i < nconns; i++) {
    conns[i].sock = open_conn(host, port);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].sock, &ev) != 0) die("epoll_ctl");
  }
  double start = now(), deadline = start + seconds;
  for (int i = 0; i < nconns; i++) send_next(&conns[i], size);
  unsigned long done = 0;
  int in_flight = nconns;
  struct epoll_event events[MAX_CONNS];
  while (in_flight > 0) {
    int n = spin_wait(ep, events, MAX_CONNS);
    double t = now();
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      ssize_t r = recv(c->sock, c->in + c->got, size - c->got, MSG_DONTWAIT);
      if (r == 0) errno = 0;
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        die("recv (the server closed or failed)");
      }
      c->got += (size_t) r;
      if (c->got < size) continue;
      if (memcmp(c->in, c->out, size) != 0) {
        errno = 0;
        die("the echo differs from the message");
      }
      done++;
      if (t < deadline)
        send_next(c, size);
      else
        in_flight--;
    }
  }
  double elapsed = now() - start;
  printf("ops=%lu bytes=%lu seconds=%.6f\n", done, done * size, elapsed);
  for (int i = 0; i < nconns; i++) close(conns[i].sock);
  free(conns);
  return 0;
}

/* ---- bulk ------------------------------------------------------------------------- */

static int bulk(const char *host, int port, unsigned long total, size_t chunk) {
  if (chunk < 1 || chunk > (1u << 20)) {
    errno = 0;
    die("CHUNK must be 1..1048576");
  }
  /* Stream byte k is pattern[k % PATTERN_PERIOD]; `pattern` holds enough periods that any
   * chunk starting at any phase is one contiguous slice of it. */
  char *pattern = malloc(chunk + PATTERN_PERIOD);
  char *in = malloc(chunk);
  if (pattern == NULL || in == NULL) die("malloc");
  for (size_t i = 0; i < chunk + PATTERN_PERIOD; i++)
    pattern[i] = (char) (i % PATTERN_PERIOD);
  int s = open_conn(host, port);
  int ep = make_epoll();
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = s};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) != 0) die("epoll_ctl");
  unsigned long sent = 0, received = 0;
  double start = now();
  while (received < total) {
    struct epoll_event ready;
    spin_wait(ep, &ready, 1);
    if ((ready.events & EPOLLOUT) && sent < total) {
      size_t want = total - sent < chunk ? (size_t) (total - sent) : chunk;
      ssize_t w = send(s, pattern + sent % PATTERN_PERIOD, want, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EINTR) die("send");
      if (w > 0) sent += (unsigned long) w;
      if (sent == total) {
        ev.events = EPOLLIN;
        if (epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) != 0) die("epoll_ctl");
      }
    }
    if (ready.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      ssize_t r = recv(s, in, chunk, MSG_DONTWAIT);
      if (r == 0) errno = 0;
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        die("recv (the server closed or failed)");
      }
      if ((unsigned long) r > sent - received ||
          memcmp(in, pattern + received % PATTERN_PERIOD, (size_t) r) != 0) {
        errno = 0;
        die("the echo differs from the stream");
      }
      received += (unsigned long) r;
    }
  }
  double elapsed = now() - start;
  printf("ops=%lu bytes=%lu seconds=%.6f\n", received, received, elapsed);
  close(s);
  free(pattern);
  free(in);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 7 && strcmp(argv[3], "rt") == 0)
    return round_trips(argv[1], atoi(argv[2]), atoi(argv[4]), (size_t) atol(argv[5]),
                       atof(argv[6]));
  if (argc == 6 && strcmp(argv[3], "bulk") == 0)
    return bulk(argv[1], atoi(argv[2]), strtoul(argv[4], NULL, 10), (size_t) atol(argv[5]));
  fprintf(stderr,
          "usage: %s HOST PORT rt CONNS MSG_SIZE SECONDS\n"
          "       %s HOST PORT bulk TOTAL_BYTES CHUNK\n",
          argv[0], argv[0]);
  return 2;
}
