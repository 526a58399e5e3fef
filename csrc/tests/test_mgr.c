/* The manager over real loopback sockets: echo over TCP/UDP and IPv4/IPv6, event order,
 * close rules, timers, connect failures, back-pressure, the connection cap, broadcast. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mgio.h"
#include "test.h"

/* Per-connection record of what a handler saw. */
struct log {
  char events[64]; /* one letter per event: P is not logged */
  size_t n;
  int connect_status;
  int closes;
  size_t received;
  size_t sent;
  int timers;
};

static const char EV_LETTER[] = "PACRSXT"; /* POLL ACCEPT CONNECT RECV SEND CLOSE TIMER */

static void note(struct log *lg, int ev) {
  if (ev != MG_EV_POLL && lg->n + 1 < sizeof(lg->events)) {
    char letter = EV_LETTER[ev];
    /* collapse runs of RECV/SEND: their count depends on how TCP splits the data */
    if ((ev == MG_EV_RECV || ev == MG_EV_SEND) && lg->n > 0 && lg->events[lg->n - 1] == letter)
      return;
    lg->events[lg->n++] = letter;
  }
}

/* Echo server: every byte received is sent back. */
static void echo_server(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_RECV) {
    mg_send(c, c->recv_mbuf.buf, (int) c->recv_mbuf.len);
    mbuf_remove(&c->recv_mbuf, c->recv_mbuf.len);
  }
}

/* Client: logs events into user_data, counts what comes back, drops it. */
static void logging_client(struct mg_connection *c, int ev, void *ev_data) {
  struct log *lg = (struct log *) c->user_data;
  note(lg, ev);
  if (ev == MG_EV_CONNECT) lg->connect_status = *(int *) ev_data;
  if (ev == MG_EV_RECV) {
    lg->received += c->recv_mbuf.len;
    mbuf_remove(&c->recv_mbuf, c->recv_mbuf.len);
  }
  if (ev == MG_EV_SEND) lg->sent += (size_t) *(int *) ev_data;
  if (ev == MG_EV_CLOSE) lg->closes++;
  if (ev == MG_EV_TIMER) lg->timers++;
}

/* Polls until `done` says so or about 5 s pass; returns whether it got there. */
static int poll_until(struct mg_mgr *mgr, int (*done)(void *), void *arg) {
  double since = mg_time();
  while (!done(arg)) {
    if (test_timed_out(since, 5)) return 0;
    mg_mgr_poll(mgr, 10);
  }
  return 1;
}

struct want_bytes {
  struct log *lg;
  size_t n;
};

static int got_bytes(void *arg) {
  struct want_bytes *w = (struct want_bytes *) arg;
  return w->lg->received >= w->n;
}

static int closed(void *arg) {
  return ((struct log *) arg)->closes > 0;
}

static struct mg_connection *listen_on(struct mg_mgr *mgr, const char *addr,
                                       mg_event_handler_t h, char *url, size_t url_len) {
  struct mg_connection *lc = mg_bind(mgr, addr, h);
  if (lc == NULL) return NULL;
  char hostport[64];
  mg_sock_addr_to_str(&lc->sa, hostport, sizeof(hostport),
                      MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
  snprintf(url, url_len, "%s%s", (lc->flags & MG_F_UDP) ? "udp://" : "", hostport);
  return lc;
}

/* mg_connect with user_data set, as most tests want. */
static struct mg_connection *connect_with(struct mg_mgr *mgr, const char *url,
                                          mg_event_handler_t h, void *user_data) {
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.user_data = user_data;
  return mg_connect_opt(mgr, url, h, opts);
}

/* 1 when this host has an IPv6 loopback to test on (some containers have none). */
static int have_ipv6_loopback(void) {
  union socket_address sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin6.sin6_family = AF_INET6;
  sa.sin6.sin6_addr = in6addr_loopback;
  sock_t s = socket(AF_INET6, SOCK_DGRAM, 0);
  int ok = s >= 0 && bind(s, &sa.sa, sizeof(sa.sin6)) == 0;
  if (s >= 0) test_close(s);
  return ok;
}

static void echo_round_trip(const char *bind_addr) {
  struct log lg;
  char url[96];
  if (strchr(bind_addr, '[') != NULL && !have_ipv6_loopback()) {
    printf("note: no ::1 on this host; %s not tested\n", bind_addr);
    return;
  }
  memset(&lg, 0, sizeof(lg));
  TEST_MGR(mgr, NULL);
  CHECK(listen_on(&mgr, bind_addr, echo_server, url, sizeof(url)) != NULL);
  struct mg_connection *c = connect_with(&mgr, url, logging_client, &lg);
  CHECK(c != NULL);
  mg_send(c, "hello", 5);
  struct want_bytes w = {&lg, 5};
  int ok = poll_until(&mgr, got_bytes, &w);
  if (lg.closes == 0) c->flags |= MG_F_CLOSE_IMMEDIATELY; /* else the library closed it */
  mg_mgr_poll(&mgr, 0);
  test_mgr_free(&mgr);
  CHECK(ok);
  CHECK(lg.connect_status == 0);
  CHECK(lg.closes == 1);
  /* CONNECT first, CLOSE last and once */
  CHECK(lg.n >= 3 && lg.events[0] == 'C' && lg.events[lg.n - 1] == 'X');
  CHECK(strchr(lg.events, 'R') != NULL && strchr(lg.events, 'S') != NULL);
}

TEST(mgr_echo_tcp_ipv4) { echo_round_trip("tcp://127.0.0.1:0"); }
TEST(mgr_echo_tcp_ipv6) { echo_round_trip("tcp://[::1]:0"); }
TEST(mgr_echo_udp_ipv4) { echo_round_trip("udp://127.0.0.1:0"); }
TEST(mgr_echo_udp_ipv6) { echo_round_trip("udp://[::1]:0"); }

/* A loopback port that refuses connections while `*sock` stays open: bound, never
 * listening (a released port could be handed out again, even as a client's own port). */
static int refusing_port(sock_t *sock, char *url, size_t url_len) {
  union socket_address sa;
  socklen_t len = sizeof(sa.sin);
  memset(&sa, 0, sizeof(sa));
  sa.sin.sin_family = AF_INET;
  sa.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  *sock = socket(AF_INET, SOCK_STREAM, 0);
  if (*sock < 0 || bind(*sock, &sa.sa, len) != 0 || getsockname(*sock, &sa.sa, &len) != 0)
    return 0;
  mg_sock_addr_to_str(&sa, url, url_len, MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
  return 1;
}

TEST(mgr_connect_refused_then_close) {
  struct log lg;
  char url[96];
  sock_t blocker;
  memset(&lg, 0, sizeof(lg));
  int have_port = refusing_port(&blocker, url, sizeof(url));
  TEST_MGR(mgr, NULL);
  int ok = 0;
  if (have_port && connect_with(&mgr, url, logging_client, &lg) != NULL)
    ok = poll_until(&mgr, closed, &lg);
  test_mgr_free(&mgr);
  if (blocker >= 0) test_close(blocker);
  CHECK(have_port);
  CHECK(ok);
  CHECK(lg.connect_status == ECONNREFUSED);
  CHECK(strcmp(lg.events, "CX") == 0);
}

TEST(mgr_bad_addresses_fail_with_text) {
  TEST_MGR(mgr, NULL);
  const char *err = NULL;
  struct mg_connect_opts co;
  memset(&co, 0, sizeof(co));
  co.error_string = &err;
  CHECK(mg_connect_opt(&mgr, "127.0.0.1:65537", NULL, co) == NULL);
  CHECK(err != NULL && strcmp(err, "cannot parse address") == 0);
  struct mg_bind_opts bo;
  memset(&bo, 0, sizeof(bo));
  err = NULL;
  bo.error_string = &err;
  CHECK(mg_bind_opt(&mgr, "tcp://[::1", NULL, bo) == NULL);
  CHECK(err != NULL && strcmp(err, "cannot parse address") == 0);
  test_mgr_free(&mgr);
}

TEST(mgr_resolve_failure_reports_minus_one) {
  struct log lg;
  memset(&lg, 0, sizeof(lg));
  TEST_MGR(mgr, NULL);
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.user_data = &lg;
  /* A label over 63 bytes fails inside the resolver library, with no network needed
   * (a real lookup of a .invalid name could wait on an unreachable DNS server). */
  struct mg_connection *c = mg_connect_opt(
      &mgr, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.invalid:80",
      logging_client, opts);
  CHECK(c != NULL && (c->flags & MG_F_RESOLVING));
  int ok = poll_until(&mgr, closed, &lg);
  test_mgr_free(&mgr);
  CHECK(ok);
  CHECK(lg.connect_status == -1);
  CHECK(strcmp(lg.events, "CX") == 0);
}

TEST(mgr_resolves_localhost_name) {
  struct log lg;
  char url[96];
  memset(&lg, 0, sizeof(lg));
  TEST_MGR(mgr, NULL);
  struct mg_connection *lc = listen_on(&mgr, "127.0.0.1:0", echo_server, url, sizeof(url));
  CHECK(lc != NULL);
  char name[96];
  snprintf(name, sizeof(name), "localhost:%s", strchr(url, ':') + 1);
  struct mg_connection *c = connect_with(&mgr, name, logging_client, &lg);
  CHECK(c != NULL);
  mg_send(c, "abc", 3);
  struct want_bytes w = {&lg, 3};
  int ok = poll_until(&mgr, got_bytes, &w);
  test_mgr_free(&mgr);
  CHECK(ok && lg.connect_status == 0);
}

/* Timers: one-shot, cleared before delivery, re-armable from the handler. */
static void timer_handler(struct mg_connection *c, int ev, void *ev_data) {
  struct log *lg = (struct log *) c->user_data;
  if (ev != MG_EV_TIMER) return;
  CHECK(c->ev_timer_time == 0);
  CHECK(*(double *) ev_data > 0);
  if (++lg->timers < 3) mg_set_timer(c, mg_time() + 0.01);
}

static int three_timers(void *arg) {
  return ((struct log *) arg)->timers >= 3;
}

TEST(mgr_timers_fire_and_rearm) {
  struct log lg;
  memset(&lg, 0, sizeof(lg));
  TEST_MGR(mgr, NULL);
  struct mg_connection *t = mg_add_sock(&mgr, INVALID_SOCKET, timer_handler);
  CHECK(t != NULL);
  t->user_data = &lg;
  double start = mg_time();
  CHECK(mg_set_timer(t, start + 0.02) == 0);
  int ok = poll_until(&mgr, three_timers, &lg);
  double took = mg_time() - start;
  test_mgr_free(&mgr);
  CHECK(ok);
  CHECK(took >= 0.04);
  CHECK(lg.timers == 3);
}

TEST(mgr_cancelled_timer_never_fires) {
  struct log lg;
  memset(&lg, 0, sizeof(lg));
  TEST_MGR(mgr, NULL);
  struct mg_connection *t = mg_add_sock(&mgr, INVALID_SOCKET, logging_client);
  CHECK(t != NULL);
  t->user_data = &lg;
  mg_set_timer(t, mg_time() + 0.01);
  CHECK(mg_set_timer(t, 0) > 0);
  for (int i = 0; i < 5; i++) mg_mgr_poll(&mgr, 10);
  test_mgr_free(&mgr);
  CHECK(lg.timers == 0);
}

/* 10 MiB each way with a small receive limit: memory stays bounded, nothing is lost. */
#define BULK (10u << 20)
struct bulk {
  size_t sent, received, max_recv_buf;
  unsigned char next_expected;
  int corrupt;
};

static void bulk_sink(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  struct bulk *b = (struct bulk *) c->user_data;
  if (ev == MG_EV_ACCEPT) c->recv_mbuf_limit = 64 * 1024;
  if (ev != MG_EV_RECV) return;
  if (c->recv_mbuf.len > b->max_recv_buf) b->max_recv_buf = c->recv_mbuf.len;
  for (size_t i = 0; i < c->recv_mbuf.len; i++)
    if ((unsigned char) c->recv_mbuf.buf[i] != (unsigned char) (b->received + i)) b->corrupt = 1;
  b->received += c->recv_mbuf.len;
  mbuf_remove(&c->recv_mbuf, c->recv_mbuf.len);
}

static void bulk_source(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  struct bulk *b = (struct bulk *) c->user_data;
  /* keep at most 256 KiB queued: the producer follows the consumer */
  if ((ev == MG_EV_CONNECT || ev == MG_EV_SEND || ev == MG_EV_POLL) && b->sent < BULK &&
      c->send_mbuf.len < 256 * 1024 && !(c->flags & MG_F_CONNECTING)) {
    unsigned char chunk[16384];
    size_t n = BULK - b->sent < sizeof(chunk) ? BULK - b->sent : sizeof(chunk);
    for (size_t i = 0; i < n; i++) chunk[i] = (unsigned char) (b->sent + i);
    mg_send(c, chunk, (int) n);
    b->sent += n;
  }
}

static int bulk_done(void *arg) {
  return ((struct bulk *) arg)->received >= BULK;
}

TEST(mgr_bulk_transfer_with_backpressure) {
  struct bulk b;
  char url[96];
  memset(&b, 0, sizeof(b));
  TEST_MGR(mgr, NULL);
  struct mg_connection *lc = listen_on(&mgr, "127.0.0.1:0", bulk_sink, url, sizeof(url));
  CHECK(lc != NULL);
  lc->user_data = &b;
  CHECK(connect_with(&mgr, url, bulk_source, &b) != NULL);
  int ok = poll_until(&mgr, bulk_done, &b);
  test_mgr_free(&mgr);
  CHECK(ok);
  CHECK(!b.corrupt);
  CHECK(b.received == BULK);
  CHECK(b.max_recv_buf <= 64 * 1024);
}

/* SEND_AND_CLOSE closes once the output is out; the peer gets all of it. */
static void say_bye(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_ACCEPT) {
    mg_printf(c, "%s", "bye");
    c->flags |= MG_F_SEND_AND_CLOSE;
  }
}

TEST(mgr_send_and_close_delivers_everything) {
  struct log lg;
  char url[96];
  memset(&lg, 0, sizeof(lg));
  TEST_MGR(mgr, NULL);
  CHECK(listen_on(&mgr, "127.0.0.1:0", say_bye, url, sizeof(url)) != NULL);
  CHECK(connect_with(&mgr, url, logging_client, &lg) != NULL);
  int ok = poll_until(&mgr, closed, &lg);
  test_mgr_free(&mgr);
  CHECK(ok);
  CHECK(lg.received == 3);
  CHECK(strcmp(lg.events, "CRX") == 0);
}

/* The user handler cannot change library flags; it can change its own. */
static void flag_meddler(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_TIMER) c->flags |= MG_F_LISTENING | MG_F_USER_3;
}

TEST(mgr_user_handler_flag_changes_are_filtered) {
  TEST_MGR(mgr, NULL);
  struct mg_connection *t = mg_add_sock(&mgr, INVALID_SOCKET, flag_meddler);
  CHECK(t != NULL);
  mg_set_timer(t, mg_time());
  mg_mgr_poll(&mgr, 0);
  unsigned long flags = t->flags;
  test_mgr_free(&mgr);
  CHECK(flags & MG_F_USER_3);
  CHECK(!(flags & MG_F_LISTENING));
}

/* Over the cap, clients are accepted and closed, and mg_connect refuses. */
TEST(mgr_connection_cap) {
  struct log lg[3];
  char url[96];
  memset(lg, 0, sizeof(lg));
  TEST_MGR(mgr, NULL);
  CHECK(listen_on(&mgr, "127.0.0.1:0", echo_server, url, sizeof(url)) != NULL);
  mgr.max_connections = 3; /* 2 clients + 1 accepted fit; the second accept does not */
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  for (int i = 0; i < 2; i++) {
    opts.user_data = &lg[i];
    CHECK(mg_connect_opt(&mgr, url, logging_client, opts) != NULL);
  }
  /* the second accept is over the cap: that client is closed by the server */
  int ok = poll_until(&mgr, closed, &lg[1]) || poll_until(&mgr, closed, &lg[0]);
  size_t count = mgr.num_connections;
  int cut_off = lg[0].closes + lg[1].closes;
  mgr.max_connections = count; /* now full: mg_connect refuses */
  const char *err = NULL;
  opts.error_string = &err;
  opts.user_data = &lg[2];
  struct mg_connection *refused = mg_connect_opt(&mgr, url, logging_client, opts);
  test_mgr_free(&mgr);
  CHECK(ok);
  CHECK(count == 2); /* one client and its accepted peer; the cut-off client is gone */
  CHECK(cut_off == 1);
  CHECK(refused == NULL);
  CHECK(err != NULL && strcmp(err, "too many connections") == 0);
}

/* mg_broadcast from many threads at once: every message reaches every connection. */
struct bcast {
  struct mg_mgr *mgr;
  int hits;
  int stop;
};

static void count_hit(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev;
  struct bcast *b = *(struct bcast **) ev_data;
  if (c->handler == echo_server) b->hits++; /* only the timer-less marker connections */
}

static void *broadcaster(void *arg) {
  struct bcast *b = (struct bcast *) arg;
  for (int i = 0; i < 25; i++) mg_broadcast(b->mgr, count_hit, &b, sizeof(b));
  return NULL;
}

static void *poller(void *arg) {
  struct bcast *b = (struct bcast *) arg;
  while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) mg_mgr_poll(b->mgr, 10);
  return NULL;
}

TEST(mgr_broadcast_from_eight_threads) {
  struct bcast b = {NULL, 0, 0};
  TEST_MGR(mgr, NULL);
  b.mgr = &mgr;
  mg_add_sock(&mgr, INVALID_SOCKET, echo_server);
  mg_add_sock(&mgr, INVALID_SOCKET, echo_server);
  pthread_t poll_thread, senders[8];
  pthread_create(&poll_thread, NULL, poller, &b);
  for (int i = 0; i < 8; i++) pthread_create(&senders[i], NULL, broadcaster, &b);
  for (int i = 0; i < 8; i++) pthread_join(senders[i], NULL);
  __atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
  mg_mgr_wakeup(&mgr);
  pthread_join(poll_thread, NULL);
  test_mgr_free(&mgr);
  CHECK(b.hits == 8 * 25 * 2);
}

/* A handler may broadcast: the calls run at once instead of deadlocking. */
static void broadcast_from_handler(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_TIMER) {
    struct bcast *b = (struct bcast *) c->user_data;
    mg_broadcast(c->mgr, count_hit, &b, sizeof(b));
  }
}

TEST(mgr_broadcast_inside_a_handler) {
  struct bcast b = {NULL, 0, 0};
  TEST_MGR(mgr, NULL);
  b.mgr = &mgr;
  mg_add_sock(&mgr, INVALID_SOCKET, echo_server);
  struct mg_connection *t = mg_add_sock(&mgr, INVALID_SOCKET, broadcast_from_handler);
  CHECK(t != NULL);
  t->user_data = &b;
  mg_set_timer(t, mg_time());
  mg_mgr_poll(&mgr, 0);
  test_mgr_free(&mgr);
  CHECK(b.hits == 1);
}

TEST(mgr_free_null_and_fileno) {
  mg_mgr_free(NULL);
  CHECK(mg_set_timer(NULL, 1.0) == 0);
  TEST_MGR(mgr, NULL);
  int fd = mg_mgr_fileno(&mgr);
  CHECK(mg_mgr_next_timer(&mgr) == 0);
  struct mg_connection *t = mg_add_sock(&mgr, INVALID_SOCKET, NULL);
  mg_set_timer(t, 1234.5);
  double next = mg_mgr_next_timer(&mgr);
  test_mgr_free(&mgr);
#ifdef MG_ENABLE_POLL_BACKEND
  CHECK(fd == -1); /* poll(2) has no descriptor that stands for the manager */
#else
  CHECK(fd >= 0);
#endif
  CHECK(next == 1234.5);
}

/* 200 clients at once, each with its own message, each gets its own echo back. */
#define MANY 200
struct many {
  struct log logs[MANY];
  char expect[MANY][24];
  int mismatches;
  size_t done, clients;
};

static void many_client(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  struct log *lg = (struct log *) c->user_data;
  struct many *all = (struct many *) c->mgr->user_data;
  size_t i = (size_t) (lg - all->logs);
  if (ev == MG_EV_CONNECT) mg_send(c, all->expect[i], (int) strlen(all->expect[i]));
  if (ev == MG_EV_RECV && c->recv_mbuf.len >= strlen(all->expect[i])) {
    if (memcmp(c->recv_mbuf.buf, all->expect[i], strlen(all->expect[i])) != 0)
      all->mismatches++;
    all->done++;
    c->flags |= MG_F_CLOSE_IMMEDIATELY;
  }
}

static int all_done(void *arg) {
  return ((struct many *) arg)->done == ((struct many *) arg)->clients;
}

TEST(mgr_two_hundred_concurrent_clients) {
  static struct many all;
  char url[96];
  memset(&all, 0, sizeof(all));
  TEST_MGR(mgr, &all);
  CHECK(listen_on(&mgr, "127.0.0.1:0", echo_server, url, sizeof(url)) != NULL);
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  all.clients = (size_t) test_rounds(MANY);
  for (int i = 0; i < (int) all.clients; i++) {
    snprintf(all.expect[i], sizeof(all.expect[i]), "client-%d", i);
    opts.user_data = &all.logs[i];
    CHECK(mg_connect_opt(&mgr, url, many_client, opts) != NULL);
  }
  int ok = poll_until(&mgr, all_done, &all);
  test_mgr_free(&mgr);
  CHECK(ok);
  CHECK(all.mismatches == 0);
}

/* A real name goes through the resolver thread: this machine's own name, which the hosts
 * file answers. Where it maps to loopback the echo must work; elsewhere the lookup must
 * still succeed (status is not -1), whatever the connect then does. */
static int connected_or_closed(void *arg) {
  struct log *lg = (struct log *) arg;
  return lg->received >= 3 || lg->closes > 0;
}

TEST(mgr_resolves_a_name_on_the_helper_thread) {
  char name[200], url[96], target[300];
  CHECK(gethostname(name, sizeof(name)) == 0);
  name[sizeof(name) - 1] = '\0';
  struct log lg;
  memset(&lg, 0, sizeof(lg));
  TEST_MGR(mgr, NULL);
  CHECK(listen_on(&mgr, "127.0.0.1:0", echo_server, url, sizeof(url)) != NULL);
  snprintf(target, sizeof(target), "%s:%s", name, strchr(url, ':') + 1);
  struct mg_connection *c = connect_with(&mgr, target, logging_client, &lg);
  int resolving = c != NULL && (c->flags & MG_F_RESOLVING) != 0;
  if (c != NULL) mg_send(c, "abc", 3);
  int ok = poll_until(&mgr, connected_or_closed, &lg);
  test_mgr_free(&mgr);
  CHECK(resolving || mg_casecmp(name, "localhost") == 0); /* that one is taken as numeric */
  CHECK(ok);
  CHECK(lg.connect_status != -1);
  CHECK(lg.events[0] == 'C');
}

/* MG_F_REUSE_PORT: a second listener on the same port succeeds only when both ask. */
TEST(mgr_reuse_port_shares_a_port) {
  TEST_MGR(a, NULL);
  TEST_MGR(b, NULL);
  struct mg_bind_opts bo;
  memset(&bo, 0, sizeof(bo));
  bo.flags = MG_F_REUSE_PORT;
  struct mg_connection *first = mg_bind_opt(&a, "tcp://127.0.0.1:0", NULL, bo);
  CHECK(first != NULL);
  char addr[64];
  snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", ntohs(first->sa.sin.sin_port));
  CHECK(mg_bind(&b, addr, NULL) == NULL);
  CHECK(mg_bind_opt(&b, addr, NULL, bo) != NULL);
  test_mgr_free(&a);
  test_mgr_free(&b);
}
