/*
 * HTTP endpoints: handlers registered on a listener for URI glob patterns
 * (mg_register_http_endpoint). The list lives in the listener's HTTP state; a request
 * goes to the pattern with the longest match (mg_match_prefix_n), the earliest
 * registered among equals.
 */
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

static char *copy_str(const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s) + 1;
  char *p = (char *) malloc(n);
  if (p != NULL) memcpy(p, s, n);
  return p;
}

static void free_endpoint(struct mg__http_endpoint *ep) {
  free((char *) ep->pattern.p);
  free((char *) ep->opts.auth_domain);
  free((char *) ep->opts.auth_file);
  free(ep);
}

void mg__http_free_endpoints(struct mg__http_endpoint *list) {
  while (list != NULL) {
    struct mg__http_endpoint *next = list->next;
    free_endpoint(list);
    list = next;
  }
}

/* A heap copy of the endpoint, or NULL when memory runs out. */
static struct mg__http_endpoint *new_endpoint(const char *pattern, mg_event_handler_t handler,
                                              struct mg_http_endpoint_opts opts) {
  struct mg__http_endpoint *ep = (struct mg__http_endpoint *) calloc(1, sizeof(*ep));
  if (ep == NULL) return NULL;
  char *p = copy_str(pattern);
  ep->pattern = mg_mk_str(p);
  ep->handler = handler;
  ep->opts.user_data = opts.user_data;
  ep->opts.auth_domain = copy_str(opts.auth_domain);
  ep->opts.auth_file = copy_str(opts.auth_file);
  if (p == NULL || (opts.auth_domain != NULL && ep->opts.auth_domain == NULL) ||
      (opts.auth_file != NULL && ep->opts.auth_file == NULL)) {
    free_endpoint(ep);
    return NULL;
  }
  return ep;
}

void mg_register_http_endpoint_opt(struct mg_connection *nc, const char *uri_path,
                                   mg_event_handler_t handler,
                                   struct mg_http_endpoint_opts opts) {
  if (nc == NULL || uri_path == NULL || handler == NULL) return;
  mg_set_protocol_http_websocket(nc);
  struct mg__http *h = mg__http_state(nc);
  if (h == NULL) return;
  struct mg__http_endpoint *ep = new_endpoint(uri_path, handler, opts), **slot;
  if (ep == NULL) return;
  for (slot = &h->endpoints; *slot != NULL; slot = &(*slot)->next) {
    if (strcmp((*slot)->pattern.p, uri_path) == 0) { /* the same pattern: replace it */
      ep->next = (*slot)->next;
      free_endpoint(*slot);
      break;
    }
  }
  *slot = ep;
}

void mg_register_http_endpoint(struct mg_connection *nc, const char *uri_path,
                               mg_event_handler_t handler) {
  struct mg_http_endpoint_opts opts;
  memset(&opts, 0, sizeof(opts));
  mg_register_http_endpoint_opt(nc, uri_path, handler, opts);
}

const struct mg__http_endpoint *mg__http_find_endpoint(struct mg_connection *lc,
                                                       struct mg_str uri) {
  const struct mg__http *h = mg__http_state(lc);
  const struct mg__http_endpoint *best = NULL;
  size_t best_len = 0;
  if (h == NULL) return NULL;
  for (const struct mg__http_endpoint *ep = h->endpoints; ep != NULL; ep = ep->next) {
    size_t n = mg_match_prefix_n(ep->pattern, uri);
    if (n > best_len) {
      best = ep;
      best_len = n;
    }
  }
  return best;
}
