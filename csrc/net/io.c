/*
 * Per-connection I/O for one poll iteration: connect completion, accepting, reading into
 * recv_mbuf (reserve, then commit what recv() wrote), writing from send_mbuf, and UDP
 * peers of a listener.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* Reads per connection per iteration before others get a turn (level-triggered
 * readiness brings it back next time). */
#define MAX_READS_PER_POLL 16
#define MAX_ACCEPTS_PER_POLL 64

static void finish_connect(struct mg_connection *c) {
  int err = c->err;
  if (err == 0 && !(c->io_ready & MG__IO_PENDING)) {
    socklen_t len = sizeof(err);
    if (getsockopt(c->sock, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  }
  c->flags &= ~(unsigned long) MG_F_CONNECTING;
  c->err = err;
  mg__call(c, NULL, MG_EV_CONNECT, &err);
  if (err != 0) mg__mark_closing(c, err);
}

/* A new connection of listener `lc` on socket `s` for peer `sa`: it inherits the
 * listener's handlers, user_data and receive limit, counts against the cap, and gets
 * MG_EV_ACCEPT. NULL when over the cap or out of memory. */
static struct mg_connection *adopt_peer(struct mg_connection *lc, sock_t s,
                                        const union socket_address *sa, unsigned long flags,
                                        unsigned int internal_flags) {
  struct mg_mgr *mgr = lc->mgr;
  if (mgr->num_connections >= mgr->max_connections) return NULL;
  struct mg_connection *c = mg__new_conn(mgr, s, lc->handler);
  if (c == NULL) return NULL;
  c->sa = *sa;
  c->listener = lc;
  c->proto_handler = lc->proto_handler;
  c->user_data = lc->user_data;
  c->recv_mbuf_limit = lc->recv_mbuf_limit;
  c->flags |= flags | (lc->flags & MG_F_NO_MULTIPART_STREAMING);
  c->internal_flags |= MG__C_COUNTED | internal_flags;
  mgr->num_connections++;
  mg__call(c, NULL, MG_EV_ACCEPT, &c->sa);
  return c;
}

static void accept_one(struct mg_connection *lc, sock_t s, const union socket_address *sa) {
  mg__set_nodelay(s);
  /* over the cap: accept and close, so the client is not left hanging */
  if (adopt_peer(lc, s, sa, 0, 0) == NULL) close(s);
}

static void accept_tcp(struct mg_connection *lc) {
  for (int i = 0; i < MAX_ACCEPTS_PER_POLL; i++) {
    union socket_address sa;
    socklen_t len = sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    sock_t s = accept4(lc->sock, &sa.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s == INVALID_SOCKET) return; /* EAGAIN, or an aborted handshake: try next time */
    accept_one(lc, s, &sa);
  }
}

static int same_peer(const union socket_address *a, const union socket_address *b) {
  if (a->sa.sa_family != b->sa.sa_family) return 0;
  if (a->sa.sa_family == AF_INET)
    return a->sin.sin_port == b->sin.sin_port &&
           a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
  return a->sin6.sin6_port == b->sin6.sin6_port &&
         memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, sizeof(a->sin6.sin6_addr)) == 0;
}

/* The connection standing for UDP peer `sa` of listener `lc`, made on its first datagram
 * (which also delivers MG_EV_ACCEPT). */
static struct mg_connection *udp_peer(struct mg_connection *lc, const union socket_address *sa) {
  struct mg_mgr *mgr = lc->mgr;
  for (struct mg_connection *c = mgr->active_connections; c != NULL; c = c->next)
    if (c->listener == lc && !(c->flags & MG_F_CLOSE_IMMEDIATELY) && same_peer(&c->sa, sa))
      return c;
  return adopt_peer(lc, lc->sock, sa, MG_F_UDP, MG__C_UDP_CHILD);
}

/* Reports n bytes just committed to recv_mbuf. */
static void notify_recv(struct mg_connection *c, size_t n) {
  int count = (int) n;
  c->last_io_time = time(NULL);
  mg__call(c, NULL, MG_EV_RECV, &count);
}

/* Commits n bytes that recv() wrote past recv_mbuf.len, and reports them. */
static void deliver(struct mg_connection *c, size_t n) {
  c->recv_mbuf.len += n;
  notify_recv(c, n);
}

static void read_udp_listener(struct mg_connection *lc) {
  for (int i = 0; i < MAX_READS_PER_POLL; i++) {
    union socket_address sa;
    socklen_t len = sizeof(sa);
    char buf[MG_UDP_IO_SIZE];
    ssize_t n = recvfrom(lc->sock, buf, sizeof(buf), 0, &sa.sa, &len);
    if (n < 0) return;
    struct mg_connection *c = udp_peer(lc, &sa);
    if (c == NULL || c->flags & MG_F_CLOSE_IMMEDIATELY) continue;
    if (!mbuf_reserve(&c->recv_mbuf, (size_t) n)) continue; /* a datagram may be dropped */
    memcpy(c->recv_mbuf.buf + c->recv_mbuf.len, buf, (size_t) n);
    deliver(c, (size_t) n);
  }
}

/* Reads what the socket has (up to MAX_READS_PER_POLL reads). A stream's reads are
 * reported as one MG_EV_RECV: one handler call per poll instead of one per 16 KiB (the
 * echo benchmark's bulk run made 16x more handler calls per MiB than asyncio before).
 * Each UDP datagram keeps its own event. */
static void read_stream(struct mg_connection *c) {
  size_t total = 0;
  /* A read into a buffer with less than a read's worth free goes through here, and
   * recv_mbuf grows by what arrived only: an idle keep-alive connection then keeps a
   * buffer the size of its last request rather than of a read (bench_idle: 4.9 KiB per
   * idle connection in C before, the 16 KiB reservation's resident page). A buffer with
   * room (a large body flowing) is read into directly. */
  char scratch[MG_TCP_IO_SIZE];
  for (int i = 0; i < MAX_READS_PER_POLL; i++) {
    if (c->flags & MG_F_CLOSE_IMMEDIATELY || c->recv_mbuf.len >= c->recv_mbuf_limit) break;
    size_t room = c->recv_mbuf_limit - c->recv_mbuf.len;
    size_t want = room < MG_TCP_IO_SIZE ? room : MG_TCP_IO_SIZE;
    if (c->flags & MG_F_UDP) want = MG_UDP_IO_SIZE;
    int direct = (c->flags & MG_F_UDP) || c->recv_mbuf.size - c->recv_mbuf.len >= want;
    if (direct && !mbuf_reserve(&c->recv_mbuf, want)) {
      mg__mark_closing(c, ENOMEM);
      break;
    }
    char *into = direct ? c->recv_mbuf.buf + c->recv_mbuf.len : scratch;
    ssize_t n = recv(c->sock, into, want, 0);
    if (n > 0 && (c->flags & MG_F_UDP)) {
      deliver(c, (size_t) n);
    } else if (n > 0) {
      if (direct) {
        c->recv_mbuf.len += (size_t) n;
      } else if (mbuf_append(&c->recv_mbuf, scratch, (size_t) n) != (size_t) n) {
        mg__mark_closing(c, ENOMEM);
        break;
      }
      total += (size_t) n;
      if ((size_t) n < want) break; /* drained for now */
    } else if (n == 0 && !(c->flags & MG_F_UDP)) {
      /* The peer shut down its sending side: what is queued for it still goes out (it
       * may be reading an answer to everything it sent), then the connection closes. */
      c->internal_flags |= MG__C_EOF;
      c->flags |= MG_F_SEND_AND_CLOSE;
      break;
    } else if (n < 0 && errno != EINTR) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) mg__mark_closing(c, errno);
      break;
    }
  }
  if (total > 0) notify_recv(c, total);
}

/* Sends what send() takes now; UDP sends the whole buffer as one datagram. */
static void write_out(struct mg_connection *c) {
  size_t total = 0;
  while (c->send_mbuf.len > 0) {
    ssize_t n;
    if (c->internal_flags & MG__C_UDP_CHILD)
      n = sendto(c->sock, c->send_mbuf.buf, c->send_mbuf.len, MSG_NOSIGNAL, &c->sa.sa,
                 mg__sa_len(&c->sa));
    else
      n = send(c->sock, c->send_mbuf.buf, c->send_mbuf.len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) mg__mark_closing(c, errno);
      break;
    }
    if (c->flags & MG_F_UDP) n = (ssize_t) c->send_mbuf.len; /* a datagram goes whole */
    mbuf_remove(&c->send_mbuf, (size_t) n);
    c->bytes_sent += (unsigned long long) n;
    total += (size_t) n;
  }
  if (total > 0) {
    int count = total > (size_t) 0x7fffffff ? 0x7fffffff : (int) total;
    c->last_io_time = time(NULL);
    mg__call(c, NULL, MG_EV_SEND, &count);
  }
}

unsigned int mg__io_wanted(const struct mg_connection *c) {
  if (c->sock == INVALID_SOCKET || (c->internal_flags & MG__C_UDP_CHILD) ||
      (c->flags & MG_F_CLOSE_IMMEDIATELY))
    return 0;
  if (c->flags & MG_F_CONNECTING) return MG__IO_WRITE;
  if (c->flags & MG_F_LISTENING) return MG__IO_READ;
  unsigned int want = 0;
  if (c->recv_mbuf.len < c->recv_mbuf_limit && !(c->internal_flags & MG__C_EOF))
    want |= MG__IO_READ; /* not when back-pressured, nor after the peer's EOF */
  if (c->send_mbuf.len > 0) want |= MG__IO_WRITE;
  return want;
}

void mg__do_io(struct mg_connection *c) {
  unsigned int ready = c->io_ready;
  if (c->flags & MG_F_CONNECTING) {
    if (ready & (MG__IO_WRITE | MG__IO_ERROR | MG__IO_PENDING)) finish_connect(c);
    return;
  }
  if (c->flags & MG_F_LISTENING) {
    if (!(ready & MG__IO_READ)) return;
    if (c->flags & MG_F_UDP)
      read_udp_listener(c);
    else
      accept_tcp(c);
    return;
  }
  if (c->sock == INVALID_SOCKET) return; /* a timer-only connection */
  if ((ready & (MG__IO_READ | MG__IO_ERROR)) && !(c->internal_flags & MG__C_EOF)) read_stream(c);
  /* Write without waiting to be told the socket is writable: it nearly always is, and a
   * reply then leaves in the iteration that read its request, not the next one. */
  if (c->send_mbuf.len > 0 && !(c->flags & MG_F_CLOSE_IMMEDIATELY)) write_out(c);
}
