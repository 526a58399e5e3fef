/* Tests of mbuf: every operation, its edges, the growth policy, and allocation failure
 * at every point of a scripted sequence (checked against a plain array model). */
#include <stdint.h>
#include <string.h>

#include "mgio.h"
#include "test.h"

/* 1 when `m` holds exactly the `n` bytes at `p`. */
static int holds(const struct mbuf *m, const void *p, size_t n) {
  return m->len == n && m->len <= m->size && (n == 0 || memcmp(m->buf, p, n) == 0);
}

/* 1 when an injected allocation failure (set with mgio_test_alloc_fail_at(k)) has not
 * fired yet, i.e. fewer than k allocations were attempted since. Consumes the pending
 * failure and leaves failures off. */
static int failure_pending(long k) {
  int pending = 0;
  for (long i = 0; i < k && !pending; i++) {
    void *p = mgio_test_realloc(NULL, 1);
    if (p == NULL) pending = 1;
    mgio_test_free(p);
  }
  mgio_test_alloc_fail_at(0);
  return pending;
}

/* A heap block from the mbuf allocator holding `n` copies of `c` (for append_and_free). */
static char *block_of(size_t n, char c) {
  char *p = (char *) mgio_test_realloc(NULL, n);
  if (p != NULL) memset(p, c, n);
  return p;
}

TEST(mbuf_init_zero_allocates_nothing) {
  TEST_MBUF(m);
  memset(&m, 0x5a, sizeof(m));
  mgio_test_alloc_fail_at(1);
  mbuf_init(&m, 0);
  CHECK(failure_pending(1));
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mbuf_free(&m);
}

TEST(mbuf_init_exact_capacity) {
  TEST_MBUF(m);
  long live = mgio_test_alloc_live();
  mbuf_init(&m, 100);
  CHECK(m.buf != NULL && m.len == 0 && m.size == 100);
  CHECK(mgio_test_alloc_live() == live + 1);
  mbuf_free(&m);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  CHECK(mgio_test_alloc_live() == live);
}

TEST(mbuf_init_failure_leaves_empty) {
  TEST_MBUF(m);
  mgio_test_alloc_fail_at(1);
  mbuf_init(&m, 64);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
}

TEST(mbuf_init_huge_attempts_nothing) {
  TEST_MBUF(m);
  mgio_test_alloc_fail_at(1);
  mbuf_init(&m, SIZE_MAX);
  CHECK(failure_pending(1));
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
}

TEST(mbuf_free_twice) {
  TEST_MBUF(m);
  mbuf_init(&m, 10);
  CHECK(mbuf_append(&m, "abc", 3) == 3);
  mbuf_free(&m);
  mbuf_free(&m);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
}

TEST(mbuf_growth_sizes) {
  TEST_MBUF(m);
  char big[20000];
  memset(big, 'x', sizeof(big));
  mbuf_init(&m, 0);
  /* needed 10 -> 10 + 5 */
  CHECK(mbuf_append(&m, "0123456789", 10) == 10);
  CHECK(m.size == 15 && holds(&m, "0123456789", 10));
  /* fits: no reallocation, even with allocation failing */
  char *before = m.buf;
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_append(&m, "abcde", 5) == 5);
  CHECK(failure_pending(1));
  CHECK(m.buf == before && m.size == 15 && holds(&m, "0123456789abcde", 15));
  /* needed 16 -> 16 + 8 */
  CHECK(mbuf_append(&m, "!", 1) == 1);
  CHECK(m.size == 24 && holds(&m, "0123456789abcde!", 16));
  /* needed 1 -> 1 + 0 */
  mbuf_free(&m);
  CHECK(mbuf_append(&m, "z", 1) == 1);
  CHECK(m.size == 1 && holds(&m, "z", 1));
  /* needed 3 -> 3 + 1 */
  CHECK(mbuf_append(&m, "yy", 2) == 2);
  CHECK(m.size == 4 && holds(&m, "zyy", 3));
  mbuf_free(&m);
  /* headroom capped: needed 20000 -> 20000 + 8192 */
  CHECK(mbuf_append(&m, big, sizeof(big)) == sizeof(big));
  CHECK(m.size == sizeof(big) + MBUF_SIZE_MAX_HEADROOM);
  CHECK(holds(&m, big, sizeof(big)));
  /* just at the cap: needed 16384 -> 16384 + 8192 */
  mbuf_free(&m);
  CHECK(mbuf_append(&m, big, 2 * MBUF_SIZE_MAX_HEADROOM) == 2 * MBUF_SIZE_MAX_HEADROOM);
  CHECK(m.size == 3 * MBUF_SIZE_MAX_HEADROOM);
  mbuf_free(&m);
  /* growth counts from len, not size: insert grows the same way */
  mbuf_init(&m, 4);
  CHECK(mbuf_insert(&m, 0, "abcdef", 6) == 6);
  CHECK(m.size == 9 && holds(&m, "abcdef", 6));
  mbuf_free(&m);
}

TEST(mbuf_growth_falls_back_to_exact) {
  TEST_MBUF(m);
  long live = mgio_test_alloc_live();
  mbuf_init(&m, 0);
  mgio_test_alloc_fail_at(1); /* the preferred 15 fails, the exact 10 succeeds */
  CHECK(mbuf_append(&m, "0123456789", 10) == 10);
  CHECK(m.size == 10 && holds(&m, "0123456789", 10));
  CHECK(mgio_test_alloc_live() == live + 1);
  /* again when growing an existing block: needed 12, preferred 18 */
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_append(&m, "ab", 2) == 2);
  CHECK(m.size == 12 && holds(&m, "0123456789ab", 12));
  CHECK(mgio_test_alloc_live() == live + 1);
  mbuf_free(&m);
}

TEST(mbuf_growth_no_fallback_when_exact) {
  /* needed 1 has no headroom: one attempt only, and its failure is final */
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_append(&m, "a", 1) == 0);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  CHECK(mbuf_append(&m, "a", 1) == 1); /* the second attempt was not consumed */
  CHECK(m.size == 1 && holds(&m, "a", 1));
  mbuf_free(&m);
}

/* With one injected failure, a growth fails entirely only when it has no headroom to
 * drop (needed == 1, so preferred == needed): every growing call then returns 0 and
 * leaves the mbuf as it was. Failures with data in the buffer are checked through
 * resize/trim below, through refused huge sizes (mbuf_huge_requests_refused) and in the
 * torture test. */
TEST(mbuf_growth_failure_unchanged) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_append(&m, "q", 1) == 0);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_insert(&m, 0, "q", 1) == 0);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_append(&m, NULL, 1) == 0);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_reserve(&m, 1) == 0);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mgio_test_alloc_fail_at(1);
  mbuf_resize(&m, 1);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mgio_test_alloc_fail_at(0);

  /* with data: a failed grow or shrink of the allocation changes nothing */
  CHECK(mbuf_append(&m, "hello world", 11) == 11);
  char *buf = m.buf;
  size_t size = m.size;
  mgio_test_alloc_fail_at(1);
  mbuf_trim(&m);
  CHECK(m.buf == buf && m.size == size && holds(&m, "hello world", 11));
  mgio_test_alloc_fail_at(1);
  mbuf_resize(&m, 1000);
  CHECK(m.buf == buf && m.size == size && holds(&m, "hello world", 11));
  mgio_test_alloc_fail_at(1);
  mbuf_resize(&m, 12);
  CHECK(m.buf == buf && m.size == size && holds(&m, "hello world", 11));
  mgio_test_alloc_fail_at(0);
  mbuf_free(&m);
}

TEST(mbuf_append_returns_and_contents) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  CHECK(mbuf_append(&m, "", 0) == 0);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  CHECK(mbuf_append(&m, NULL, 0) == 0);
  CHECK(mbuf_append(&m, "abc", 3) == 3);
  CHECK(mbuf_append(&m, "def", 3) == 3);
  CHECK(holds(&m, "abcdef", 6));
  CHECK(mbuf_append(&m, "zzz", 0) == 0);
  CHECK(holds(&m, "abcdef", 6));
  /* NULL data reserves the space */
  CHECK(mbuf_append(&m, NULL, 2) == 2);
  CHECK(m.len == 8);
  m.buf[6] = 'g';
  m.buf[7] = 'h';
  CHECK(holds(&m, "abcdefgh", 8));
  mbuf_free(&m);
}

TEST(mbuf_insert_positions) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  CHECK(mbuf_insert(&m, 0, "world", 5) == 5);
  CHECK(mbuf_insert(&m, 0, "hello", 5) == 5);
  CHECK(holds(&m, "helloworld", 10));
  CHECK(mbuf_insert(&m, 5, ", ", 2) == 2);
  CHECK(holds(&m, "hello, world", 12));
  CHECK(mbuf_insert(&m, m.len, "!", 1) == 1); /* at len = append */
  CHECK(holds(&m, "hello, world!", 13));
  char *buf = m.buf;
  size_t size = m.size;
  CHECK(mbuf_insert(&m, m.len + 1, "?", 1) == 0); /* past the end: refused */
  CHECK(mbuf_insert(&m, SIZE_MAX, "?", 1) == 0);
  CHECK(m.buf == buf && m.size == size && holds(&m, "hello, world!", 13));
  CHECK(mbuf_insert(&m, 3, "", 0) == 0);
  CHECK(holds(&m, "hello, world!", 13));
  /* NULL data: the gap is reserved, the tail moved */
  CHECK(mbuf_insert(&m, 5, NULL, 3) == 3);
  CHECK(m.len == 16);
  memcpy(m.buf + 5, "___", 3);
  CHECK(holds(&m, "hello___, world!", 16));
  mbuf_free(&m);
  /* insert on an empty mbuf past its (zero) length is refused without allocating */
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_insert(&m, 1, "x", 1) == 0);
  CHECK(failure_pending(1));
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
}

TEST(mbuf_insert_without_realloc) {
  TEST_MBUF(m);
  mbuf_init(&m, 32);
  CHECK(mbuf_append(&m, "abcdef", 6) == 6);
  char *buf = m.buf;
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_insert(&m, 2, "XY", 2) == 2);
  CHECK(failure_pending(1));
  CHECK(m.buf == buf && m.size == 32 && holds(&m, "abXYcdef", 8));
  mbuf_free(&m);
}

TEST(mbuf_huge_requests_refused) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  /* empty mbuf: SIZE_MAX and other impossible sizes */
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_append(&m, NULL, SIZE_MAX) == 0);
  CHECK(mbuf_insert(&m, 0, NULL, SIZE_MAX) == 0);
  CHECK(mbuf_reserve(&m, SIZE_MAX) == 0);
  CHECK(mbuf_append(&m, NULL, SIZE_MAX / 2 + 1) == 0);
  mbuf_resize(&m, SIZE_MAX);
  CHECK(failure_pending(1));
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);

  CHECK(mbuf_append(&m, "abc", 3) == 3);
  char *buf = m.buf;
  size_t size = m.size;
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_append(&m, NULL, SIZE_MAX) == 0);
  CHECK(mbuf_append(&m, NULL, SIZE_MAX - m.len + 1) == 0);
  CHECK(mbuf_append(&m, NULL, SIZE_MAX - m.len) == 0);
  CHECK(mbuf_insert(&m, 1, NULL, SIZE_MAX) == 0);
  CHECK(mbuf_insert(&m, 0, NULL, SIZE_MAX - m.len + 1) == 0);
  CHECK(mbuf_reserve(&m, SIZE_MAX) == 0);
  CHECK(mbuf_reserve(&m, SIZE_MAX - m.len + 1) == 0);
  mbuf_resize(&m, SIZE_MAX);
  mbuf_resize(&m, SIZE_MAX - 1);
  CHECK(failure_pending(1));
  CHECK(m.buf == buf && m.size == size && holds(&m, "abc", 3));

  /* append_and_free with an impossible size still frees the block */
  char *blk = block_of(4, 'd');
  CHECK(blk != NULL);
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_append_and_free(&m, blk, SIZE_MAX) == 0);
  CHECK(failure_pending(1));
  CHECK(m.buf == buf && m.size == size && holds(&m, "abc", 3));
  mbuf_free(&m);
}

TEST(mbuf_remove_cases) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  mbuf_remove(&m, 0); /* on an empty mbuf */
  mbuf_remove(&m, 1);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  CHECK(mbuf_append(&m, "0123456789", 10) == 10);
  char *buf = m.buf;
  size_t size = m.size;
  mbuf_remove(&m, 0);
  CHECK(holds(&m, "0123456789", 10));
  mbuf_remove(&m, 11); /* more than len: no-op */
  CHECK(holds(&m, "0123456789", 10));
  mbuf_remove(&m, SIZE_MAX);
  CHECK(holds(&m, "0123456789", 10));
  mbuf_remove(&m, 3);
  CHECK(holds(&m, "3456789", 7));
  mbuf_remove(&m, 1);
  CHECK(holds(&m, "456789", 6));
  mbuf_remove(&m, 6); /* exactly len */
  CHECK(m.len == 0);
  CHECK(m.buf == buf && m.size == size); /* the allocation is kept */
  mbuf_free(&m);
}

TEST(mbuf_resize_cases) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  mbuf_resize(&m, 0); /* empty to empty */
  CHECK(m.buf == NULL && m.size == 0);
  mbuf_resize(&m, 50);
  CHECK(m.buf != NULL && m.size == 50 && m.len == 0);
  CHECK(mbuf_append(&m, "abcdefghij", 10) == 10);
  CHECK(m.size == 50);
  mbuf_resize(&m, 9); /* below len: ignored */
  CHECK(m.size == 50 && holds(&m, "abcdefghij", 10));
  mbuf_resize(&m, 0);
  CHECK(m.size == 50 && holds(&m, "abcdefghij", 10));
  mbuf_resize(&m, 10); /* exactly len */
  CHECK(m.size == 10 && holds(&m, "abcdefghij", 10));
  mbuf_resize(&m, 20);
  CHECK(m.size == 20 && holds(&m, "abcdefghij", 10));
  mbuf_resize(&m, 15); /* shrinking but >= len */
  CHECK(m.size == 15 && holds(&m, "abcdefghij", 10));
  mbuf_clear(&m);
  mbuf_resize(&m, 0); /* no data: frees */
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mbuf_free(&m);
}

TEST(mbuf_trim_and_clear) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  mbuf_trim(&m);
  CHECK(m.buf == NULL && m.size == 0);
  CHECK(mbuf_append(&m, "abcdefghij", 10) == 10);
  CHECK(m.size == 15);
  mbuf_trim(&m);
  CHECK(m.size == 10 && holds(&m, "abcdefghij", 10));
  mbuf_trim(&m); /* already trimmed */
  CHECK(m.size == 10 && holds(&m, "abcdefghij", 10));
  char *buf = m.buf;
  mbuf_clear(&m);
  CHECK(m.len == 0 && m.buf == buf && m.size == 10);
  mbuf_clear(&m);
  CHECK(m.len == 0 && m.buf == buf && m.size == 10);
  CHECK(mbuf_append(&m, "xyz", 3) == 3); /* reuses the kept allocation */
  CHECK(m.buf == buf && holds(&m, "xyz", 3));
  mbuf_clear(&m);
  mbuf_trim(&m); /* trim with no data frees */
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mbuf_clear(&m); /* clear on a zeroed mbuf */
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mbuf_free(&m);
}

TEST(mbuf_append_and_free_adopts_when_empty) {
  TEST_MBUF(m);
  long live = mgio_test_alloc_live();
  mbuf_init(&m, 0);
  char *blk = block_of(7, 'a');
  CHECK(blk != NULL);
  CHECK(mbuf_append_and_free(&m, blk, 7) == 7);
  CHECK(m.buf == blk && m.len == 7 && m.size == 7);
  CHECK(holds(&m, "aaaaaaa", 7));
  mbuf_free(&m);
  CHECK(mgio_test_alloc_live() == live);

  /* cleared but allocated: the old block is released and the new one adopted */
  mbuf_init(&m, 100);
  mbuf_clear(&m);
  blk = block_of(3, 'b');
  CHECK(blk != NULL);
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_append_and_free(&m, blk, 3) == 3);
  CHECK(failure_pending(1)); /* adoption allocates nothing */
  CHECK(m.buf == blk && m.len == 3 && m.size == 3 && holds(&m, "bbb", 3));
  CHECK(mgio_test_alloc_live() == live + 1);
  mbuf_free(&m);
  CHECK(mgio_test_alloc_live() == live);
}

TEST(mbuf_append_and_free_appends_when_not_empty) {
  TEST_MBUF(m);
  long live = mgio_test_alloc_live();
  mbuf_init(&m, 0);
  CHECK(mbuf_append(&m, "xy", 2) == 2);
  char *blk = block_of(4, 'c');
  CHECK(blk != NULL);
  CHECK(mbuf_append_and_free(&m, blk, 4) == 4);
  CHECK(m.buf != blk && holds(&m, "xycccc", 6));
  CHECK(mgio_test_alloc_live() == live + 1);
  mbuf_free(&m);
  CHECK(mgio_test_alloc_live() == live);
}

TEST(mbuf_append_and_free_failure_still_frees) {
  TEST_MBUF(m);
  long live = mgio_test_alloc_live();
  mbuf_init(&m, 0);
  CHECK(mbuf_append(&m, "x", 1) == 1); /* size 1 */
  char *buf = m.buf;
  char *blk = block_of(1, 'd');
  CHECK(blk != NULL);
  /* needed 2, preferred 3 fails, exact 2 succeeds: still a success */
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_append_and_free(&m, blk, 1) == 1);
  CHECK(m.size == 2 && holds(&m, "xd", 2));
  buf = m.buf;
  size_t size = m.size;
  /* refused (impossible size) after the buffer exists: block freed, mbuf unchanged */
  blk = block_of(1, 'e');
  CHECK(blk != NULL);
  CHECK(mbuf_append_and_free(&m, blk, SIZE_MAX - 1) == 0);
  CHECK(m.buf == buf && m.size == size && holds(&m, "xd", 2));
  CHECK(mgio_test_alloc_live() == live + 1);
  mbuf_free(&m);
  CHECK(mgio_test_alloc_live() == live);

  /* a zero-size block appends nothing and is freed */
  mbuf_init(&m, 0);
  CHECK(mbuf_append(&m, "x", 1) == 1);
  blk = block_of(4, 'f');
  CHECK(blk != NULL);
  CHECK(mbuf_append_and_free(&m, blk, 0) == 0);
  CHECK(holds(&m, "x", 1));
  mbuf_free(&m);
  CHECK(mgio_test_alloc_live() == live);

  /* zero-size block on an empty mbuf: freed, the mbuf and its allocation kept */
  mbuf_init(&m, 10);
  buf = m.buf;
  blk = block_of(1, 'g');
  CHECK(blk != NULL);
  CHECK(mbuf_append_and_free(&m, blk, 0) == 0);
  CHECK(m.buf == buf && m.len == 0 && m.size == 10);
  mbuf_free(&m);
  CHECK(mgio_test_alloc_live() == live);
}

TEST(mbuf_append_and_free_null_data) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  CHECK(mbuf_append_and_free(&m, NULL, 0) == 0);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  CHECK(mbuf_append(&m, "a", 1) == 1);
  CHECK(mbuf_append_and_free(&m, NULL, 2) == 2); /* reserves, like mbuf_append */
  CHECK(m.len == 3);
  m.buf[1] = 'b';
  m.buf[2] = 'c';
  CHECK(holds(&m, "abc", 3));
  mbuf_free(&m);
}

TEST(mbuf_move_cases) {
  TEST_MBUF(a);
  TEST_MBUF(b);
  mbuf_init(&a, 0);
  mbuf_init(&b, 0);
  CHECK(mbuf_append(&a, "payload", 7) == 7);
  char *buf = a.buf;
  size_t size = a.size;
  mbuf_move(&a, &b);
  CHECK(a.buf == NULL && a.len == 0 && a.size == 0);
  CHECK(b.buf == buf && b.size == size && holds(&b, "payload", 7));
  /* moving onto itself keeps the contents */
  mbuf_move(&b, &b);
  CHECK(b.buf == buf && b.size == size && holds(&b, "payload", 7));
  /* moving an empty mbuf */
  mbuf_move(&a, &a);
  CHECK(a.buf == NULL && a.len == 0 && a.size == 0);
  mbuf_move(&b, &a);
  CHECK(b.buf == NULL && b.len == 0 && b.size == 0);
  CHECK(a.buf == buf && holds(&a, "payload", 7));
  mbuf_free(&a);
  mbuf_free(&b);
}

TEST(mbuf_reserve_cases) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  CHECK(mbuf_reserve(&m, 0) == 1);
  CHECK(m.buf == NULL && m.size == 0);
  CHECK(mbuf_reserve(&m, 10) == 1);
  CHECK(m.size == 15 && m.len == 0); /* grows like insert */
  char *buf = m.buf;
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_reserve(&m, 15) == 1); /* fits */
  CHECK(failure_pending(1));
  CHECK(m.buf == buf && m.size == 15);
  CHECK(mbuf_append(&m, "abcde", 5) == 5);
  CHECK(mbuf_reserve(&m, 11) == 1); /* needed 16 -> 24 */
  CHECK(m.size == 24 && holds(&m, "abcde", 5));
  /* reserve then commit */
  memcpy(m.buf + m.len, "fgh", 3);
  m.len += 3;
  CHECK(holds(&m, "abcdefgh", 8));
  mgio_test_alloc_fail_at(1); /* needed 30: preferred 45 fails, exact 30 */
  CHECK(mbuf_reserve(&m, 22) == 1);
  CHECK(m.size == 30 && holds(&m, "abcdefgh", 8));
  mbuf_free(&m);
  /* a reserve that fails entirely: needed 1 has no headroom to drop */
  mgio_test_alloc_fail_at(1);
  CHECK(mbuf_reserve(&m, 1) == 0);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mgio_test_alloc_fail_at(0);
}

TEST(mbuf_append_from_itself) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  CHECK(mbuf_append(&m, "abcdef", 6) == 6);
  mbuf_trim(&m); /* full: the next append reallocates */
  CHECK(m.size == 6);
  CHECK(mbuf_append(&m, m.buf, m.len) == 6);
  CHECK(holds(&m, "abcdefabcdef", 12));
  CHECK(mbuf_append(&m, m.buf + 2, 3) == 3);
  CHECK(holds(&m, "abcdefabcdefcde", 15));
  mbuf_free(&m);
}

TEST(mbuf_insert_from_itself) {
  static const struct {
    size_t off, src, n;
    const char *want;
  } cases[] = {
      {0, 0, 3, "abcabcdefgh"},  {2, 0, 4, "ababcdcdefgh"}, {4, 2, 4, "abcdcdefefgh"},
      {8, 0, 8, "abcdefghabcdefgh"}, {3, 5, 3, "abcfghdefgh"}, {0, 7, 1, "habcdefgh"},
      {5, 3, 4, "abcdedefgfgh"},
  };
  for (int trimmed = 0; trimmed < 2; trimmed++) {
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      TEST_MBUF(m);
      mbuf_init(&m, trimmed ? 8 : 64);
      CHECK(mbuf_append(&m, "abcdefgh", 8) == 8);
      size_t n = cases[i].n;
      CHECK(mbuf_insert(&m, cases[i].off, m.buf + cases[i].src, n) == n);
      size_t want_len = strlen(cases[i].want);
      int ok = holds(&m, cases[i].want, want_len);
      mbuf_free(&m);
      CHECK(ok);
    }
  }
}

/* ------------------------------------------------------------------------------------
 * Allocation-failure torture: a scripted sequence of operations, run once for every
 * allocation that could fail, each time checked step by step against a model.
 * ---------------------------------------------------------------------------------- */

enum op_kind {
  OP_INIT,
  OP_APPEND,
  OP_INSERT,
  OP_INSERT_NULL,
  OP_REMOVE,
  OP_RESIZE,
  OP_TRIM,
  OP_CLEAR,
  OP_RESERVE,
  OP_APPEND_AND_FREE,
  OP_APPEND_SELF,
  OP_MOVE,
};

struct op {
  enum op_kind kind;
  size_t a, b; /* size / offset arguments */
  char c;      /* fill byte */
};

#define MODEL_MAX 8192

struct model {
  char data[MODEL_MAX];
  size_t len;
};

static void model_insert(struct model *md, size_t off, const char *p, size_t n) {
  memmove(md->data + off + n, md->data + off, md->len - off);
  memcpy(md->data + off, p, n);
  md->len += n;
}

static const struct op script[] = {
    {OP_INIT, 4, 0, 0},           {OP_APPEND, 3, 0, 'a'},     {OP_APPEND, 5, 0, 'b'},
    {OP_INSERT, 2, 4, 'c'},       {OP_INSERT_NULL, 6, 0, 'd'}, {OP_APPEND_SELF, 3, 7, 0},
    {OP_REMOVE, 5, 0, 0},         {OP_TRIM, 0, 0, 0},         {OP_APPEND, 1, 0, 'e'},
    {OP_RESERVE, 40, 0, 0},       {OP_APPEND, 30, 0, 'f'},    {OP_RESIZE, 200, 0, 0},
    {OP_RESIZE, 10, 0, 0},        {OP_APPEND_AND_FREE, 9, 0, 'g'}, {OP_MOVE, 0, 0, 0},
    {OP_INSERT, 3000, 0, 'h'},    {OP_REMOVE, 2000, 0, 0},    {OP_CLEAR, 0, 0, 0},
    {OP_APPEND_AND_FREE, 12, 0, 'i'}, {OP_APPEND, 100, 0, 'j'}, {OP_TRIM, 0, 0, 0},
    {OP_INSERT, 50, 20, 'k'},     {OP_APPEND_SELF, 0, 132, 0}, {OP_REMOVE, 100, 0, 0},
    {OP_TRIM, 0, 0, 0},           {OP_REMOVE, 5000, 0, 0},    {OP_APPEND, 1, 0, 'l'},     {OP_CLEAR, 0, 0, 0},
    {OP_RESIZE, 0, 0, 0},         {OP_APPEND, 1, 0, 'm'},     {OP_APPEND, 1, 0, 'n'},
};

/* 1 when `m` is consistent and equals the model. */
static int matches(const struct mbuf *m, const struct model *md) {
  return m->len <= m->size && (m->size == 0) == (m->buf == NULL) &&
         holds(m, md->data, md->len);
}

/* Runs one step; returns 1 when every check of it held. */
static int step(struct mbuf *m, struct model *md, const struct op *op) {
  char fill[MODEL_MAX];
  char *buf = m->buf;
  size_t size = m->size;
  size_t n;
  switch (op->kind) {
    case OP_INIT:
      mbuf_init(m, op->a);
      md->len = 0;
      return m->len == 0 && (m->size == op->a || (m->size == 0 && m->buf == NULL));
    case OP_APPEND:
      memset(fill, op->c, op->a);
      n = mbuf_append(m, fill, op->a);
      if (n == op->a) {
        model_insert(md, md->len, fill, op->a);
        return 1;
      }
      return n == 0 && m->buf == buf && m->size == size;
    case OP_INSERT:
    case OP_INSERT_NULL: {
      size_t off = op->b < md->len ? op->b : md->len;
      memset(fill, op->c, op->a);
      n = mbuf_insert(m, off, op->kind == OP_INSERT ? fill : NULL, op->a);
      if (n == op->a) {
        if (op->kind == OP_INSERT_NULL) memset(m->buf + off, op->c, op->a);
        model_insert(md, off, fill, op->a);
        return 1;
      }
      return n == 0 && m->buf == buf && m->size == size;
    }
    case OP_APPEND_SELF: {
      size_t src = op->b < md->len ? op->b : md->len;
      size_t cnt = op->a == 0 ? md->len - src : op->a;
      if (cnt > md->len - src) cnt = md->len - src;
      memcpy(fill, md->data + src, cnt);
      n = mbuf_append(m, m->buf == NULL ? NULL : m->buf + src, cnt);
      if (cnt > 0 && n == cnt) {
        model_insert(md, md->len, fill, cnt);
        return 1;
      }
      return n == 0 && m->buf == buf && m->size == size;
    }
    case OP_REMOVE:
      mbuf_remove(m, op->a);
      if (op->a <= md->len) {
        memmove(md->data, md->data + op->a, md->len - op->a);
        md->len -= op->a;
      }
      return m->buf == buf && m->size == size;
    case OP_RESIZE:
    case OP_TRIM: {
      size_t want = op->kind == OP_TRIM ? md->len : op->a;
      if (op->kind == OP_TRIM) mbuf_trim(m);
      else mbuf_resize(m, want);
      if (want < md->len) return m->buf == buf && m->size == size;
      return m->size == want || (m->buf == buf && m->size == size);
    }
    case OP_CLEAR:
      mbuf_clear(m);
      md->len = 0;
      return m->buf == buf && m->size == size;
    case OP_RESERVE:
      if (mbuf_reserve(m, op->a)) return m->size >= md->len + op->a;
      return m->buf == buf && m->size == size;
    case OP_APPEND_AND_FREE: {
      char *blk = block_of(op->a, op->c);
      if (blk == NULL) return 1; /* the test's own allocation was the one to fail */
      memset(fill, op->c, op->a);
      n = mbuf_append_and_free(m, blk, op->a);
      if (n == op->a) {
        model_insert(md, md->len, fill, op->a);
        return 1;
      }
      return n == 0 && m->buf == buf && m->size == size;
    }
    case OP_MOVE: {
      TEST_MBUF(other);
      mbuf_move(m, &other);
      if (m->buf != NULL || m->len != 0 || m->size != 0) return 0;
      if (other.buf != buf || other.size != size || other.len != md->len) return 0;
      mbuf_move(&other, m);
      return other.buf == NULL && m->buf == buf;
    }
  }
  return 0;
}

/* Runs the whole script; returns the number of the first failing step plus one, or 0. */
static size_t run_script(struct model *md) {
  TEST_MBUF(m);
  size_t bad = 0;
  md->len = 0;
  for (size_t i = 0; i < sizeof(script) / sizeof(script[0]) && bad == 0; i++) {
    if (!step(&m, md, &script[i]) || !matches(&m, md)) bad = i + 1;
  }
  mbuf_free(&m);
  return bad;
}

TEST(mbuf_allocation_failure_torture) {
  static struct model md, reference;
  long live = mgio_test_alloc_live();
  CHECK(run_script(&reference) == 0);
  CHECK(reference.len == 2);
  long k;
  for (k = 1; k < 1000; k++) {
    mgio_test_alloc_fail_at(k);
    size_t bad = run_script(&md);
    int pending = failure_pending(k);
    CHECK(bad == 0);
    CHECK(mgio_test_alloc_live() == live);
    if (pending) {
      /* no allocation failed: the run must equal the failure-free one */
      CHECK(md.len == reference.len && memcmp(md.data, reference.data, md.len) == 0);
      break;
    }
  }
  CHECK(k > 15 && k < 1000); /* the script does allocate, and finitely often */
}

/* When every allocation fails (the preferred size and the exact-size retry), growth
 * returns 0 and leaves pointer, length, size and contents as they were. */
TEST(mbuf_growth_fails_when_every_allocation_fails) {
  TEST_MBUF(m);
  mbuf_init(&m, 4);
  CHECK(mbuf_append(&m, "abcd", 4) == 4);
  char *before = m.buf;
  mgio_test_alloc_fail_from(1);
  size_t added = mbuf_append(&m, "efgh", 4);
  size_t inserted = mbuf_insert(&m, 0, "xy", 2);
  int reserved = mbuf_reserve(&m, 100);
  mgio_test_alloc_fail_at(0);
  int same = m.buf == before && m.len == 4 && m.size == 4 && memcmp(m.buf, "abcd", 4) == 0;
  mbuf_free(&m);
  CHECK(added == 0 && inserted == 0 && reserved == 0);
  CHECK(same);
}
