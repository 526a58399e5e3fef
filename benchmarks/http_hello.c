/*
 * HTTP hello world with a C handler, for bench_http.py: the mgio core driven through the
 * Mongoose 6 API alone, no Python. bench_http.py compiles it with the library sources
 * (every .c file of csrc/base, net, proto and http; -O2) into a temporary folder at run
 * time.
 *
 *   http_hello [ADDRESS [MAX_CONNECTIONS]]
 *
 * ADDRESS is what mg_bind takes; the default "127.0.0.1:0" picks a free port.
 * MAX_CONNECTIONS replaces the manager's connection cap (bench_idle.py holds 10,000). Once
 * listening, prints the port on a line of its own on stdout; then serves until killed.
 * Every request, whatever its method and URI, is answered with
 *
 *   HTTP/1.1 200 OK
 *   Server: mgio
 *   Content-Type: text/plain
 *   Content-Length: 5
 *
 *   hello
 *
 * keeping the connection open (HTTP/1.1 keep-alive, the library's defaults).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "mongoose.h"

static void on_event(struct mg_connection *nc, int ev, void *ev_data) {
  (void) ev_data;
  if (ev != MG_EV_HTTP_REQUEST) return;
  mg_send_head(nc, 200, 5, "Content-Type: text/plain");
  mg_send(nc, "hello", 5);
}

int main(int argc, char **argv) {
  const char *address = argc > 1 ? argv[1] : "127.0.0.1:0";
  struct mg_mgr mgr;
  struct mg_connection *listener;
  struct sockaddr_storage sa;
  socklen_t len = sizeof(sa);
  int port = -1;

  mg_mgr_init(&mgr, NULL);
  if (argc > 2) mgr.max_connections = strtoul(argv[2], NULL, 10);
  listener = mg_bind(&mgr, address, on_event);
  if (listener == NULL) {
    fprintf(stderr, "http_hello: cannot listen on %s\n", address);
    return 1;
  }
  mg_set_protocol_http_websocket(listener);
  /* every server keeps its connections for the whole run (nginx is configured alike) */
  struct mg_http_limits limits = mg_http_default_limits();
  limits.max_requests = 0;
  if (mg_http_set_limits(listener, &limits) != 0) {
    fprintf(stderr, "http_hello: mg_http_set_limits failed\n");
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
