/*
 * libFuzzer target: Digest Authorization parameters (csrc/proto/auth_digest.c,
 * mg__digest_parse) and htdigest lines (mg__htdigest_line).
 * Input: the field value. Invariants: on success every parameter read lies in the store
 * (whose size, the value's length, the header documents as enough), within its bound,
 * and the lengths add up to at most the value's; writing the parameters back as quoted
 * strings and parsing that again gives the same parameters. An htdigest split has a
 * non-empty user and a 32-hex-digit HA1, all views inside the line.
 */
#include <stdlib.h>
#include <string.h>

#include "../../csrc/proto/auth.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct field {
  const char *name;
  size_t max;
  size_t offset;
};

#define FIELD(n, m) {#n, m, offsetof(struct mg__digest_params, n)}
static const struct field fields[] = {
    FIELD(username, MG__DIGEST_MAX_USER),   FIELD(realm, MG__DIGEST_MAX_REALM),
    FIELD(nonce, MG__DIGEST_MAX_NONCE),     FIELD(uri, MG__DIGEST_MAX_URI),
    FIELD(response, MG__DIGEST_MAX_SHORT),  FIELD(qop, MG__DIGEST_MAX_SHORT),
    FIELD(nc, MG__DIGEST_MAX_SHORT),        FIELD(cnonce, MG__DIGEST_MAX_CNONCE),
    FIELD(algorithm, MG__DIGEST_MAX_SHORT), FIELD(opaque, MG__DIGEST_MAX_OPAQUE),
    FIELD(userhash, MG__DIGEST_MAX_SHORT),
};
#define NUM_FIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct mg_str *slot(const struct mg__digest_params *p, size_t i) {
  return (const struct mg_str *) (const void *) ((const char *) p + fields[i].offset);
}

/* "Digest a="v", ..." with each present parameter quoted (" and \ escaped). */
static void write_back(const struct mg__digest_params *p, struct fuzz_buf *out) {
  fuzz_buf_add(out, "Digest ", 7);
  for (size_t i = 0; i < NUM_FIELDS; i++) {
    const struct mg_str *v = slot(p, i);
    if (v->p == NULL) continue;
    fuzz_buf_add(out, fields[i].name, strlen(fields[i].name));
    fuzz_buf_add(out, "=\"", 2);
    for (size_t k = 0; k < v->len; k++) {
      if (v->p[k] == '"' || v->p[k] == '\\') fuzz_buf_addc(out, '\\');
      fuzz_buf_addc(out, v->p[k]);
    }
    fuzz_buf_add(out, "\", ", 3);
  }
}

static void check_params(const struct mg__digest_params *p, const char *store, size_t cap) {
  size_t total = 0;
  for (size_t i = 0; i < NUM_FIELDS; i++) {
    const struct mg_str *v = slot(p, i);
    if (v->p == NULL) continue;
    FUZZ_CHECK(v->len <= fields[i].max && fuzz_view_in(*v, store, cap));
    total += v->len;
  }
  FUZZ_CHECK(total <= cap);
}

static void check_digest(struct mg_str v) {
  struct mg__digest_params p, again;
  char *store = (char *) malloc(v.len + 1);
  FUZZ_CHECK(store != NULL);
  if (mg__digest_parse(v, &p, store, v.len) == 0) {
    check_params(&p, store, v.len);
    struct fuzz_buf out = {NULL, 0, 0};
    write_back(&p, &out);
    char *store2 = (char *) malloc(out.len);
    FUZZ_CHECK(store2 != NULL);
    FUZZ_CHECK(mg__digest_parse(mg_mk_str_n(out.p, out.len), &again, store2, out.len) == 0);
    for (size_t i = 0; i < NUM_FIELDS; i++) {
      const struct mg_str *a = slot(&p, i), *b = slot(&again, i);
      FUZZ_CHECK((a->p == NULL) == (b->p == NULL) && a->len == b->len);
      FUZZ_CHECK(a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
    }
    free(store2);
    fuzz_buf_free(&out);
  }
  free(store);
}

static void check_htdigest(struct mg_str line) {
  struct mg_str user, realm, ha1;
  if (mg__htdigest_line(line, &user, &realm, &ha1) != 0) return;
  FUZZ_CHECK(user.len > 0 && mg__digest_is_hex(ha1, 32));
  FUZZ_CHECK(fuzz_view_in(user, line.p, line.len) && fuzz_view_in(realm, line.p, line.len));
  FUZZ_CHECK(fuzz_view_in(ha1, line.p, line.len));
  FUZZ_CHECK(memchr(user.p, ':', user.len) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = (char *) fuzz_dup(data, size);
  struct mg_str v = mg_mk_str_n(copy, size);
  check_digest(v);
  check_htdigest(v);
  free(copy);
  return 0;
}
