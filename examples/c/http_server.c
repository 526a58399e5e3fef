/*
 * A static file server with one JSON route, written against the Mongoose 6 API.
 *
 *   http_server ADDRESS FOLDER [option=value ...]
 *
 * ADDRESS is what mg_bind takes ("8000", "127.0.0.1:8000"; port 0 picks a free one).
 * FOLDER is served with mg_serve_http; GET /api/hello answers {"message": "hello"}.
 * Options set fields of struct mg_serve_http_opts by name, e.g.
 *   index_files=start.html enable_directory_listing=no hidden_file_pattern=**.bak$
 *   custom_mime_types=.txt=text/x-mine extra_headers="X-Served-By: example"
 * Once listening it prints "ready HOST:PORT" on stdout; SIGINT or SIGTERM stops it.
 *
 * Build: make -C csrc examples   (-> csrc/out/examples/http_server)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "mongoose.h"

static struct mg_serve_http_opts s_opts;
static volatile sig_atomic_t s_stop;

static void on_signal(int sig) {
  (void) sig;
  s_stop = 1;
}

/* Every request the endpoint does not take is a file or folder under the root. */
static void serve(struct mg_connection *nc, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_REQUEST) mg_serve_http(nc, (struct http_message *) ev_data, s_opts);
}

static void api_hello(struct mg_connection *nc, int ev, void *ev_data) {
  static const char body[] = "{\"message\": \"hello\"}";
  (void) ev_data;
  if (ev != MG_EV_HTTP_REQUEST) return;
  mg_send_head(nc, 200, (int64_t) (sizeof(body) - 1),
               "Content-Type: application/json\r\nCache-Control: no-store");
  mg_send(nc, body, (int) (sizeof(body) - 1));
}

/* Sets the option named by "name=value"; 0 when there is no such option. */
static int set_option(char *arg) {
  static const struct {
    const char *name;
    const char **field;
  } fields[] = {
      {"index_files", &s_opts.index_files},
      {"enable_directory_listing", &s_opts.enable_directory_listing},
      {"hidden_file_pattern", &s_opts.hidden_file_pattern},
      {"custom_mime_types", &s_opts.custom_mime_types},
      {"extra_headers", &s_opts.extra_headers},
      {"ip_acl", &s_opts.ip_acl},
      {"per_directory_auth_file", &s_opts.per_directory_auth_file},
      {"global_auth_file", &s_opts.global_auth_file},
      {"auth_domain", &s_opts.auth_domain},
  };
  char *eq = strchr(arg, '=');
  if (eq == NULL) return 0;
  *eq = '\0';
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    if (strcmp(arg, fields[i].name) == 0) {
      *fields[i].field = eq + 1;
      return 1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  struct mg_mgr mgr;
  char addr[64];
  if (argc < 3) {
    fprintf(stderr, "usage: %s ADDRESS FOLDER [option=value ...]\n", argv[0]);
    return 2;
  }
  s_opts.document_root = argv[2];
  for (int i = 3; i < argc; i++) {
    if (!set_option(argv[i])) {
      fprintf(stderr, "unknown option: %s\n", argv[i]);
      return 2;
    }
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  mg_mgr_init(&mgr, NULL);
  struct mg_connection *lc = mg_bind(&mgr, argv[1], serve);
  if (lc == NULL) {
    fprintf(stderr, "cannot listen on %s\n", argv[1]);
    mg_mgr_free(&mgr);
    return 1;
  }
  mg_set_protocol_http_websocket(lc);
  mg_register_http_endpoint(lc, "/api/hello$", api_hello);
  mg_sock_addr_to_str(&lc->sa, addr, sizeof(addr), MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
  printf("ready %s\n", addr);
  fflush(stdout);

  while (!s_stop) mg_mgr_poll(&mgr, 200);
  mg_mgr_free(&mgr);
  return 0;
}
