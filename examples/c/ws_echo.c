/*
 * A WebSocket echo server, written against the Mongoose 6 API.
 *
 *   ws_echo ADDRESS [option=value ...]
 *
 * ADDRESS is what mg_bind takes ("8000", "127.0.0.1:8000"; port 0 picks a free one).
 * Every WebSocket data message (MG_EV_WEBSOCKET_FRAME) is sent back with the same opcode
 * and payload; Ping is answered by the library and Close is echoed by it. A plain HTTP
 * request gets a short text answer. Options set the WebSocket limits of the listener
 * (struct mg_http_limits, through mg_http_set_limits):
 *   ws_message=N     bytes of one message, inflated (default 1048576)
 *   ws_fragments=N   frames of one message (default 1024)
 *   ws_deflate=0|1   accept permessage-deflate when offered (default 1)
 *   ws_ping_ms=N     Ping after this long without input, 0 off (default 20000)
 *   ws_close_ms=N    wait for the peer's Close after ours (default 5000)
 *   ws_pong_ms=N     no input after the idle Ping: Close 1011 (default 20000, 0 off)
 *   no_defrag=0|1    MG_F_WEBSOCKET_NO_DEFRAG: fragments are delivered (and echoed) one
 *                    by one instead of reassembled (default 0)
 * Once listening it prints "ready HOST:PORT" on stdout; SIGINT or SIGTERM stops it.
 *
 * Build: make -C csrc examples   (-> csrc/out/examples/ws_echo)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongoose.h"

static volatile sig_atomic_t s_stop;
static int s_no_defrag;

static void on_signal(int sig) {
  (void) sig;
  s_stop = 1;
}

static void handler(struct mg_connection *nc, int ev, void *ev_data) {
  switch (ev) {
    case MG_EV_ACCEPT:
      /* An accepted connection does not take the listener's flags: set it on each. */
      if (s_no_defrag) nc->flags |= MG_F_WEBSOCKET_NO_DEFRAG;
      break;
    case MG_EV_HTTP_REQUEST: {
      static const char body[] = "ws_echo: connect with a WebSocket client\n";
      mg_send_head(nc, 200, (int64_t) (sizeof(body) - 1), "Content-Type: text/plain");
      mg_send(nc, body, (int) (sizeof(body) - 1));
      break;
    }
    case MG_EV_WEBSOCKET_FRAME: {
      /* The same opcode and payload back; with MG_F_WEBSOCKET_NO_DEFRAG a fragment
       * without FIN goes back without FIN, so the echo shows the fragmentation. */
      struct websocket_message *wm = (struct websocket_message *) ev_data;
      int op = wm->flags & 0x0f;
      if (!(wm->flags & 0x80)) op |= WEBSOCKET_DONT_FIN;
      mg_send_websocket_frame(nc, op, wm->data, wm->size);
      break;
    }
    default:
      break;
  }
}

/* Parses a non-negative decimal number; 0 when `s` is not one. */
static int parse_num(const char *s, unsigned long long *out) {
  char *end;
  if (*s < '0' || *s > '9') return 0;
  *out = strtoull(s, &end, 10);
  return *end == '\0';
}

/* Sets the option "name=value"; 0 when there is no such option or a bad value. */
static int set_option(const char *arg, struct mg_http_limits *lim) {
  const char *eq = strchr(arg, '=');
  unsigned long long v;
  if (eq == NULL || !parse_num(eq + 1, &v)) return 0;
  size_t n = (size_t) (eq - arg);
  if (n == 10 && strncmp(arg, "ws_message", n) == 0) {
    lim->ws_message = (size_t) v;
  } else if (n == 12 && strncmp(arg, "ws_fragments", n) == 0) {
    lim->ws_fragments = (size_t) v;
  } else if (n == 10 && strncmp(arg, "ws_deflate", n) == 0 && v <= 1) {
    lim->ws_deflate = (int) v;
  } else if (n == 10 && strncmp(arg, "ws_ping_ms", n) == 0) {
    lim->ws_ping_ms = (unsigned int) v;
  } else if (n == 11 && strncmp(arg, "ws_close_ms", n) == 0) {
    lim->ws_close_ms = (unsigned int) v;
  } else if (n == 10 && strncmp(arg, "ws_pong_ms", n) == 0) {
    lim->ws_pong_ms = (unsigned int) v;
  } else if (n == 9 && strncmp(arg, "no_defrag", n) == 0 && v <= 1) {
    s_no_defrag = (int) v;
  } else {
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  struct mg_mgr mgr;
  struct mg_bind_opts opts;
  struct mg_http_limits limits = mg_http_default_limits();
  const char *err = NULL;
  char addr[64];
  if (argc < 2) {
    fprintf(stderr, "usage: %s ADDRESS [option=value ...]\n", argv[0]);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (!set_option(argv[i], &limits)) {
      fprintf(stderr, "bad option: %s\n", argv[i]);
      return 2;
    }
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  mg_mgr_init(&mgr, NULL);
  memset(&opts, 0, sizeof(opts));
  opts.error_string = &err;
  if (s_no_defrag) opts.flags = MG_F_WEBSOCKET_NO_DEFRAG;
  struct mg_connection *lc = mg_bind_opt(&mgr, argv[1], handler, opts);
  if (lc == NULL) {
    fprintf(stderr, "cannot listen on %s: %s\n", argv[1], err != NULL ? err : "?");
    mg_mgr_free(&mgr);
    return 1;
  }
  mg_set_protocol_http_websocket(lc);
  if (mg_http_set_limits(lc, &limits) != 0) {
    fprintf(stderr, "cannot set the limits\n");
    mg_mgr_free(&mgr);
    return 1;
  }
  mg_sock_addr_to_str(&lc->sa, addr, sizeof(addr), MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
  printf("ready %s\n", addr);
  fflush(stdout);

  while (!s_stop) mg_mgr_poll(&mgr, 200);
  mg_mgr_free(&mgr);
  return 0;
}
