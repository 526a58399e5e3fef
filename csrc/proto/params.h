/*
 * Header parameters read the way RFC 9110 5.6.6 says (internal to mgio): the public
 * mg_http_parse_header2 keeps Mongoose 6's case-sensitive names.
 */
#ifndef MGIO_PROTO_PARAMS_H
#define MGIO_PROTO_PARAMS_H

#include <stddef.h>

#include "mgio.h"

/* mg_http_parse_header2 with the parameter name matched in any case ("BOUNDARY=x"). */
int mg__http_header_param(struct mg_str *hdr, const char *name, char **buf, size_t buf_size);

#endif
