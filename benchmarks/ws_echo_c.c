/*
 * WebSocket echo with a C handler, for bench_ws.py: the mgio core driven through the
 * Mongoose 6 API alone, no Python; the ceiling the Python handler is measured against.
 * bench_ws.py compiles it with the library sources (every .c file of csrc/base, net,
 * proto and http; -O2) into a temporary folder at run time.
 *
 *   ws_echo_c [ADDRESS]
 *
 * ADDRESS is what mg_bind takes; the default "127.0.0.1:0" picks a free port. Once
 * listening, prints the port on a line of its own on stdout; then serves until killed.
 * Every WebSocket data message (MG_EV_WEBSOCKET_FRAME) goes back with the same opcode
 * and payload; Ping and Close are answered by the library. permessage-deflate is turned
 * off (the load client never offers it anyway), as for every server of the benchmark.
 * Plain HTTP requests get the library's default answer.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "mongoose.h"

static void on_event(struct mg_connection *nc, int ev, void *ev_data) {
  if (ev != MG_EV_WEBSOCKET_FRAME) return;
  struct websocket_message *wm = (struct websocket_message *) ev_data;
  mg_send_websocket_frame(nc, wm->flags & 0x0f, wm->data, wm->size);
}

int main(int argc, char **argv) {
  const char *address = argc > 1 ? argv[1] : "127.0.0.1:0";
  struct mg_mgr mgr;
  struct mg_connection *listener;
  struct mg_http_limits limits = mg_http_default_limits();
  struct sockaddr_storage sa;
  socklen_t len = sizeof(sa);
  int port = -1;

  mg_mgr_init(&mgr, NULL);
  listener = mg_bind(&mgr, address, on_event);
  if (listener == NULL) {
    fprintf(stderr, "ws_echo_c: cannot listen on %s\n", address);
    return 1;
  }
  mg_set_protocol_http_websocket(listener);
  limits.ws_deflate = 0;
  if (mg_http_set_limits(listener, &limits) != 0) {
    fprintf(stderr, "ws_echo_c: mg_http_set_limits failed\n");
    return 1;
  }
  memset(&sa, 0, sizeof(sa));
  if (getsockname((int) listener->sock, (struct sockaddr *) &sa, &len) == 0) {
    if (sa.ss_family == AF_INET) port = ntohs(((struct sockaddr_in *) &sa)->sin_port);
    if (sa.ss_family == AF_INET6) port = ntohs(((struct sockaddr_in6 *) &sa)->sin6_port);
  }
  printf("%d\n", port);
  fflush(stdout);
  for (;;) mg_mgr_poll(&mgr, 1000);
  /* not reached: the benchmark kills the process */
}
