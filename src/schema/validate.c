/*
 * The validator: walks the compiled graph over an instance and stops at the first
 * failing keyword. Instance and keyword locations are kept as chains of frames on the C
 * stack and only written out when an error is reported, so a valid instance costs no
 * allocation. Branches whose failure is expected (anyOf, oneOf, not, if, contains) are
 * "probed": evaluated with error reporting off.
 *
 * unevaluatedProperties and unevaluatedItems need to know what the other keywords of
 * their schema evaluated. Rather than collect annotations on every evaluation, the
 * validator works it out afterwards, only where those keywords appear: one pass over the
 * adjacent and in-place keywords marks the members or items they evaluated (mark_props,
 * mark_items), probing the branches of anyOf, oneOf and if once each to learn which
 * count. The marks are a bitset on the stack, or on the heap for more than
 * MARKS_ON_STACK members or items.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "schema/internal.h"
#include "schema/uri.h"

/* The jansson accessors validation calls for every member, item and value, declared again
   with noplt, so that GCC calls them through the GOT directly rather than by way of the
   PLT. Should a declaration here differ from jansson.h's, the build fails. */
#if defined(__has_attribute)
#if __has_attribute(noplt)
#define NOPLT __attribute__((noplt))
size_t json_object_size(const json_t *object) NOPLT;
void *json_object_iter(json_t *object) NOPLT;
void *json_object_iter_next(json_t *object, void *iter) NOPLT;
const char *json_object_iter_key(void *iter) NOPLT;
size_t json_object_iter_key_len(void *iter) NOPLT;
json_t *json_object_iter_value(void *iter) NOPLT;
size_t json_array_size(const json_t *array) NOPLT;
json_t *json_array_get(const json_t *array, size_t index) NOPLT;
const char *json_string_value(const json_t *string) NOPLT;
size_t json_string_length(const json_t *string) NOPLT;
json_int_t json_integer_value(const json_t *integer) NOPLT;
double json_real_value(const json_t *real) NOPLT;
#endif
#endif

typedef struct ipath {
  const struct ipath *up;
  const char *key; /* NULL: an array index */
  size_t keylen;
  size_t index;
} ipath_t;

typedef struct kpath {
  const struct kpath *up;
  const char *rel; /* an sg__edge_t path: never NULL, its length kept before it */
} kpath_t;

typedef struct scope {
  const struct scope *up;
  const sg__resource_t *res;
} scope_t;

/* An object's members, read once (view_build) for all the nodes applied to the object in
   place: its keywords, allOf, if/then/else, the alternatives of anyOf and oneOf,
   unevaluatedProperties. */
typedef struct {
  const char *key;
  json_t *val;
  size_t len;
  uint64_t head; /* sg__key_hash's */
  uint32_t hash;
  unsigned char id; /* the name's id in the view's plan, or SG__PLAN_NONE */
} member_t;

typedef struct {
  json_t *obj;
  const member_t *m;
  size_t n;
  const uint16_t *index; /* open addressing on the hash: member + 1, 0 empty; or NULL */
  size_t mask;
  /* The plan of the node that built the view (sg__plan_t), or NULL: which of its names
     the object has, and their values, by the plan's ids. */
  const sg__plan_t *plan;
  uint64_t seen;
  size_t unknown; /* members whose names are not in the plan's table */
  json_t *vals[SG__MAX_NAMES];
} view_t;

/* The map from n's name ids to those of the view's plan; NULL when the plan does not
   cover n. */
static inline const unsigned char *plan_map(const view_t *v, const sg__node_t *n) {
  const sg__plan_t *p = v->plan;
  for (size_t i = 0; i < p->nnodes; i++)
    if (p->nodes[i] == n) return p->maps[i];
  return NULL;
}

/* The member of a view with this name, through its index. */
static inline const member_t *view_get(const view_t *v, const char *name, size_t len, uint64_t head,
                                       uint32_t hash) {
  for (size_t s = hash & v->mask;; s = (s + 1) & v->mask) {
    unsigned k = v->index[s];
    if (k == 0) return NULL;
    const member_t *m = &v->m[k - 1];
    if (m->hash == hash && m->len == len && m->head == head && sg__rest_eq(m->key, name, len))
      return m;
  }
}

/* The member of a view with this name, comparing with each member in turn. */
static inline const member_t *view_scan(const view_t *v, const char *name, size_t len,
                                        uint64_t head) {
  for (size_t i = 0; i < v->n; i++) {
    const member_t *m = &v->m[i];
    if (m->head == head && m->len == len && sg__rest_eq(m->key, name, len)) return m;
  }
  return NULL;
}

typedef struct {
  sg_schema_error_t *out; /* the caller's; NULL when not wanted */
  /* Every error wanted (sg_schema_validate_all): each one written to out is handed to
     sink and forgotten, and the keyword that failed counts as holding, so that evaluation
     goes on to find the others. */
  sg_schema_error_fn sink;
  void *sink_data;
  size_t nsunk;
  int quiet;   /* > 0 while probing */
  int filled;  /* out holds the first error */
  int aborted; /* a limit was hit: invalid, whatever the keywords say */
  int depth;
  int dynamic; /* the schema has a dynamic $dynamicRef: keep track of the dynamic scope */
  int halt;    /* dynamic or aborted: descend_fast leaves the node to descend */
  int peak;    /* the deepest depth reached */
  /* While best_alternative weighs the alternatives: an error is not written, only its
     score kept (see error_score). */
  int scoring;
  size_t score;
  /* The steps and the length of the instance location of the error written. */
  size_t err_steps, err_ilen;
  /* sg__node_t.evaluated was used in place of working out what was evaluated, which
     enters fewer nodes; legacy turns that off (see sg_schema_validate). */
  int used_evaluated, legacy;
  /* A stack of the values of declared properties, one frame per object being validated
     (see v_object); an object that does not fit is validated with lookups instead. */
  size_t nvals;
  json_t *vals[256];
  /* The innermost object with a view, and the members of the views open, one after the
     other; an object that does not fit gets no view. */
  const view_t *view;
  size_t nmembers, nindex;
  member_t members[256];
  uint16_t index[1024];
  /* The object a switch found its name P at the first member of, and that member, when
     the alternative entered is the switch's copy lead_node (sg__switch_t.matched), whose
     P holds for any value: plain_object_pass then starts at the second member. Kept
     after the stacks, whose places in memory it would otherwise move, which slowed
     validation without a switch by a few percent. */
  json_t *lead_obj;
  void *lead_it;
  const sg__node_t *lead_node;
  size_t lead_at;
} vctx_t;

/* Whether a failure now would be the error reported; when not, messages are not built. */
static int reporting(const vctx_t *c) {
  return c->out && !c->quiet && !c->filled;
}

/* Records the depth of a node one level down that is checked in place rather than entered,
   as entering it would have: checks that stop near the depth limit read the peak. */
static inline void reached_below(vctx_t *c) {
  if (c->depth + 1 > c->peak) c->peak = c->depth + 1;
}

/* ---- error reporting ---- */

/* Copies n bytes, w to 2 * w, as two words of w bytes that overlap when n is less than
   2 * w; the words are left in *x and *y (each w bytes) for a caller that reads them. */
static inline __attribute__((always_inline)) void copy_two(char *d, const char *s, size_t n,
                                                           size_t w, void *x, void *y) {
  memcpy(x, s, w);
  memcpy(y, s + n - w, w);
  memcpy(d, x, w);
  memcpy(d + n - w, y, w);
}

/* Copies n bytes; without a call for the short strings errors are made of (two loads that
   may overlap, inside both strings), and without the inline "rep movs" a compiler may
   choose for a copy of bounded size, whose start-up costs more than such a copy. */
static inline void copy_short(char *d, const char *s, size_t n) {
  if (n > 16) {
    /* Up to 32 bytes without a loop, which the compiler would vectorize at a cost of
       checks that exceed such a copy. */
    char x[16], y[16];
    size_t i = 0;
    for (; n - i > 32; i += 16) {
      memcpy(x, s + i, 16);
      memcpy(d + i, x, 16);
    }
    copy_two(d + i, s + i, n - i, 16, x, y);
  } else if (n >= 8) {
    uint64_t x, y;
    copy_two(d, s, n, 8, &x, &y);
  } else if (n >= 4) {
    uint32_t x, y;
    copy_two(d, s, n, 4, &x, &y);
  } else if (n) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

static size_t put(char *out, size_t cap, size_t pos, const char *s, size_t n) {
  if (pos >= cap) return pos;
  size_t room = cap - pos - 1;
  if (n > room) n = room;
  copy_short(out + pos, s, n);
  out[pos + n] = '\0';
  return pos + n;
}

/* Writes v in decimal at buf's end (buf holds 24 bytes); returns where it starts. */
static char *decimal(char *buf, unsigned long long v) {
  char *p = buf + 24;
  do {
    *--p = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return p;
}

/* put(out, cap, pos, "/", 1) */
static size_t put_slash(char *out, size_t cap, size_t pos) {
  if (pos >= cap) return pos;
  if (pos + 1 == cap) {
    out[pos] = '\0';
    return pos;
  }
  out[pos] = '/';
  out[pos + 1] = '\0';
  return pos + 1;
}

static size_t put_decimal(char *out, size_t cap, size_t pos, unsigned long long v, int minus) {
  char buf[24];
  char *d = decimal(buf, v);
  if (minus) *--d = '-';
  return put(out, cap, pos, d, (size_t)(buf + 24 - d));
}

/* vsnprintf for the conversions messages use (%s, %ld, %zu, %%), without the cost of the
   general one, which still does anything else. */
static void format(char *out, size_t cap, const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  size_t pos = 0;
  out[0] = '\0';
  for (const char *f = fmt; *f;) {
    const char *pct = strchr(f, '%');
    size_t run = pct ? (size_t)(pct - f) : strlen(f);
    pos = put(out, cap, pos, f, run);
    if (pct == NULL) break;
    f = pct + 1;
    if (f[0] == 's') {
      const char *v = va_arg(ap, const char *);
      if (v == NULL) v = "(null)";
      pos = put(out, cap, pos, v, strlen(v));
      f += 1;
    } else if (f[0] == 'l' && f[1] == 'd') {
      long v = va_arg(ap, long);
      unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
      pos = put_decimal(out, cap, pos, m, v < 0);
      f += 2;
    } else if (f[0] == 'z' && f[1] == 'u') {
      pos = put_decimal(out, cap, pos, va_arg(ap, size_t), 0);
      f += 2;
    } else if (f[0] == '%') {
      pos = put(out, cap, pos, "%", 1);
      f += 1;
    } else {
      vsnprintf(out, cap, fmt, again);
      break;
    }
  }
  va_end(again);
}

static size_t put_ipath(char *out, size_t cap, const ipath_t *p) {
  if (p == NULL) return 0;
  size_t pos = put_slash(out, cap, put_ipath(out, cap, p->up));
  if (p->key == NULL) return put_decimal(out, cap, pos, p->index, 0);
  size_t plain = 0;
  while (plain < p->keylen && p->key[plain] != '~' && p->key[plain] != '/' && p->key[plain])
    plain++;
  if (plain == p->keylen) return put(out, cap, pos, p->key, p->keylen);
  /* The key escaped as a JSON Pointer token (sg__ptr_escape), cut where an escape would
     not fit; the location ends at a NUL in the key, as a C string does. */
  size_t room = cap - pos, w = 0, end = (size_t)-1;
  for (size_t i = 0; i < p->keylen; i++) {
    char ch = p->key[i];
    size_t k = ch == '~' || ch == '/' ? 2 : 1;
    if (w + k >= room) break;
    if (k == 2) {
      out[pos + w] = '~';
      out[pos + w + 1] = ch == '~' ? '0' : '1';
    } else {
      out[pos + w] = ch;
      if (ch == '\0' && end == (size_t)-1) end = w;
    }
    w += k;
  }
  out[pos + w] = '\0';
  return pos + (end == (size_t)-1 ? w : end);
}

static size_t put_kpath(char *out, size_t cap, const kpath_t *p) {
  if (p == NULL) return 0;
  size_t pos = put_kpath(out, cap, p->up);
  pos = put_slash(out, cap, pos);
  return put(out, cap, pos, p->rel, sg__edge_pathlen(p->rel));
}

/* Nonzero when one of the 8 bytes of x is '~', '/' or NUL: bytes a location escapes or
   stops at. */
static inline uint64_t unplain8(uint64_t x) {
  const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
  uint64_t tilde = x ^ (ones * '~'), slash = x ^ (ones * '/');
  return (((tilde - ones) & ~tilde) | ((slash - ones) & ~slash) | ((x - ones) & ~x)) & highs;
}

/* copy_token for more than 16 bytes; out of line, as the compiler vectorizes the loop,
   whose set-up would otherwise be paid by every short copy. */
static __attribute__((noinline)) uint64_t copy_long_token(char *d, const char *s, size_t n) {
  uint64_t x, bad = 0;
  for (size_t i = 0; i + 8 < n; i += 8) {
    memcpy(&x, s + i, 8);
    memcpy(d + i, &x, 8);
    bad |= unplain8(x);
  }
  memcpy(&x, s + n - 8, 8);
  memcpy(d + n - 8, &x, 8);
  return bad | unplain8(x);
}

/* copy_short, which also tells whether the bytes copied hold one that unplain8 finds. */
static inline uint64_t copy_token(char *d, const char *s, size_t n) {
  uint64_t bad = 0;
  if (n > 16) {
    bad = copy_long_token(d, s, n);
  } else if (n >= 8) {
    uint64_t x, y;
    copy_two(d, s, n, 8, &x, &y);
    bad = unplain8(x) | unplain8(y);
  } else if (n >= 4) {
    uint32_t x, y;
    copy_two(d, s, n, 4, &x, &y);
    bad = unplain8((uint64_t)x << 32 | y);
  } else if (n) {
    unsigned char a = (unsigned char)s[0], b = (unsigned char)s[n / 2], e = (unsigned char)s[n - 1];
    d[0] = (char)a;
    d[n / 2] = (char)b;
    d[n - 1] = (char)e;
    static const unsigned char unplain[256] = {[0] = 1, ['/'] = 1, ['~'] = 1};
    bad = unplain[a] | unplain[b] | unplain[e];
  }
  return bad;
}

enum { LOCATION_CAP = sizeof((sg_schema_error_t *)0)->instance_location };

/* How many steps of a location put_ipath_plain and put_kpath_plain take in one go. */
enum { PLAIN_STEPS = 24 };

/* put_ipath(out, LOCATION_CAP, ip) for a location of a few steps that needs neither
   escapes nor cuts, which is about every one: the steps are gathered first, so that each
   is written once, in order, with one check of the room left. Returns its length and sets
   *steps, or returns (size_t)-1 for put_ipath to write the location. */
static size_t put_ipath_plain(char *out, const ipath_t *ip, size_t *steps) {
  const ipath_t *step[PLAIN_STEPS];
  size_t n = 0, pos = 0;
  for (; ip; ip = ip->up) {
    if (n == PLAIN_STEPS) return (size_t)-1;
    step[n++] = ip;
  }
  *steps = n;
  while (n) {
    const ipath_t *p = step[--n];
    if (p->key) {
      /* a NUL stays, and so does the slash after the last byte that fits: both are
         within the room checked */
      if (p->keylen >= LOCATION_CAP - 1 - pos) return (size_t)-1;
      out[pos] = '/';
      if (copy_token(out + pos + 1, p->key, p->keylen)) return (size_t)-1;
      pos += 1 + p->keylen;
    } else {
      char digits[24];
      char *d = decimal(digits, p->index);
      size_t len = (size_t)(digits + sizeof digits - d);
      if (len >= LOCATION_CAP - 1 - pos) return (size_t)-1;
      out[pos] = '/';
      copy_short(out + pos + 1, d, len);
      pos += 1 + len;
    }
  }
  out[pos] = '\0';
  return pos;
}

/* The keyword location: kp's path, then "/" and kw unless kwlen is 0, written as
   put_ipath_plain writes an instance location. Returns 0 when it would be cut or has
   many steps, for put_kpath and put to write it. */
static int put_kpath_plain(char *out, const kpath_t *kp, const char *kw, size_t kwlen) {
  const char *step[PLAIN_STEPS];
  size_t n = 0, pos = 0;
  for (; kp; kp = kp->up) {
    if (n == PLAIN_STEPS) return 0;
    step[n++] = kp->rel;
  }
  while (n) {
    const char *rel = step[--n];
    size_t len = sg__edge_pathlen(rel);
    out[pos] = '/';
    if (len <= SG__EDGE_PATH_READABLE && pos + 1 + SG__EDGE_PATH_READABLE < LOCATION_CAP) {
      /* the bytes past its end are written over, or left past the NUL */
      memcpy(out + pos + 1, rel, SG__EDGE_PATH_READABLE);
    } else {
      if (len >= LOCATION_CAP - 1 - pos) return 0;
      copy_short(out + pos + 1, rel, len);
    }
    pos += 1 + len;
  }
  if (kwlen) {
    if (kwlen >= LOCATION_CAP - 1 - pos) return 0;
    out[pos] = '/';
    copy_short(out + pos + 1, kw, kwlen);
    pos += 1 + kwlen;
  }
  out[pos] = '\0';
  return 1;
}

/* How many of the first n bytes of s come before the first NUL: eight at a time, the last
   eight overlapping those before, then one by one from the eight that hold it, or when
   there are fewer than eight. */
static inline size_t until_nul(const char *s, size_t n) {
  const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
  size_t i = 0;
  if (n >= 8)
    for (uint64_t x;; i += 8) {
      if (i + 8 > n) i = n - 8;
      memcpy(&x, s + i, 8);
      if ((x - ones) & ~x & highs) break;
      if (i + 8 == n) return n;
    }
  while (i < n && s[i]) i++;
  return i;
}

/* Copies at most max bytes of s to buf, cut at a character boundary, marking a cut with
   "..."; returns the length written, without a NUL. */
static size_t clip_to(char *buf, size_t max, const char *s, size_t len) {
  if (len <= max) {
    copy_short(buf, s, len);
    return len;
  }
  size_t n = max;
  while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
  copy_short(buf, s, n);
  memcpy(buf + n, "...", 3);
  return n + 3;
}

/* Copies at most 40 bytes of s, cut at a character boundary, marking a cut with "...". */
static const char *clip(char *buf, size_t cap, const char *s, size_t len) {
  buf[clip_to(buf, cap - 4 < 40 ? cap - 4 : 40, s, len)] = '\0';
  return buf;
}

static size_t error_score(const ipath_t *ip, const char *kw);

/* Fills all of the error but the message; kw is kwlen bytes long. The keyword location is
   kp's path followed by kw, unless here is set: then the failing schema is kp itself (a
   false schema) and kw only names the keyword that led to it. */
static void locate(vctx_t *c, const ipath_t *ip, const kpath_t *kp, const char *kw, size_t kwlen,
                   int here) {
  sg_schema_error_t *e = c->out;
  /* The steps and the length are kept for written_score. */
  c->err_ilen = put_ipath_plain(e->instance_location, ip, &c->err_steps);
  if (c->err_ilen == (size_t)-1) {
    put_ipath(e->instance_location, sizeof e->instance_location, ip);
    c->err_ilen = strlen(e->instance_location);
    c->err_steps = 0;
    for (const ipath_t *p = ip; p; p = p->up) c->err_steps++;
  }
  if (!put_kpath_plain(e->keyword_location, kp, kw, here ? 0 : kwlen)) {
    size_t pos = put_kpath(e->keyword_location, sizeof e->keyword_location, kp);
    if (kwlen && !here) {
      pos = put_slash(e->keyword_location, sizeof e->keyword_location, pos);
      put(e->keyword_location, sizeof e->keyword_location, pos, kw, kwlen);
    }
  }
  put(e->keyword, sizeof e->keyword, 0, kw ? kw : "", kwlen);
  c->filled = 1;
}

static void vreport(vctx_t *c, const ipath_t *ip, const kpath_t *kp, const char *kw,
                    const char *fmt, va_list ap) {
  if (c->scoring) {
    c->score = error_score(ip, kw);
    c->filled = 1;
    return;
  }
  locate(c, ip, kp, kw, kw ? strlen(kw) : 0, 0);
  format(c->out->message, sizeof c->out->message, fmt, ap);
}

/* In the every-error mode, passes the error just written to the sink and forgets it;
   returns 1, so that the keyword counts as holding and evaluation goes on. Otherwise
   returns 0, "invalid". */
static int sunk(vctx_t *c) {
  if (c->sink == NULL || c->scoring || !c->filled) return 0;
  c->sink(c->sink_data, c->out);
  c->nsunk++;
  c->out->instance_location[0] = c->out->keyword_location[0] = '\0';
  c->out->keyword[0] = c->out->message[0] = '\0';
  c->filled = 0;
  return 1;
}

/* Records an error (the first one only, and not while probing); returns 0, "invalid"
   (1 in the every-error mode: see sunk).
   fail is a macro so that the message's arguments are not even computed
   when no error is to be recorded. */
static __attribute__((noinline, cold, format(printf, 5, 6))) int fail_(vctx_t *c, const ipath_t *ip,
                                                                       const kpath_t *kp,
                                                                       const char *kw,
                                                                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(c, ip, kp, kw, fmt, ap);
  va_end(ap);
  return sunk(c);
}

/* fail_ for a message that is a, b and d one after the other: what the format "a%sd"
   would write with b, without reading a format. For a caller that knows an error is being
   reported and not weighed. */
static __attribute__((noinline, cold)) int fail_text_(vctx_t *c, const ipath_t *ip,
                                                      const kpath_t *kp, const char *kw,
                                                      const char *a, size_t alen, const char *b,
                                                      const char *d, size_t dlen) {
  locate(c, ip, kp, kw, strlen(kw), 0);
  char *m = c->out->message;
  size_t pos = put(m, sizeof c->out->message, 0, a, alen);
  pos = put(m, sizeof c->out->message, pos, b, strlen(b));
  put(m, sizeof c->out->message, pos, d, dlen);
  return sunk(c);
}

/* a and d are string literals. */
#define fail_text(c, ip, kp, kw, a, b, d) \
  fail_text_((c), (ip), (kp), (kw), (a), sizeof(a) - 1, (b), (d), sizeof(d) - 1)

/* Reports an error whose message the caller has written to c->out->message, which saves
   copying it there; kw is kwlen bytes long. Otherwise as fail_text_. */
static __attribute__((noinline, cold)) int report(vctx_t *c, const ipath_t *ip, const kpath_t *kp,
                                                  const char *kw, size_t kwlen, int here) {
  locate(c, ip, kp, kw, kwlen, here);
  return sunk(c);
}

/* Writes the string literal a at m without its NUL; returns its length. */
#define put_literal(m, a) (memcpy((m), (a), sizeof(a) - 1), sizeof(a) - 1)

/* While weighing alternatives only the score of the error is kept (see vreport). */
static __attribute__((noinline, cold)) int score_fail(vctx_t *c, const ipath_t *ip,
                                                      const char *kw) {
  c->score = error_score(ip, kw);
  c->filled = 1;
  return 0;
}

#define fail(c, ip, kp, kw, ...)                                                                  \
  (reporting(c)                                                                                   \
       ? ((c)->scoring ? score_fail((c), (ip), (kw)) : fail_((c), (ip), (kp), (kw), __VA_ARGS__)) \
       : 0)

/* A limit was hit: the instance is invalid, and this is the error the caller sees. */
static int abort_eval(vctx_t *c, const ipath_t *ip, const kpath_t *kp, const char *kw,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int abort_eval(vctx_t *c, const ipath_t *ip, const kpath_t *kp, const char *kw,
                      const char *fmt, ...) {
  if (c->out && !c->aborted && c->scoring) {
    c->score = 0; /* the outcome is settled: nothing is weighed any more */
    c->filled = 1;
  } else if (c->out && !c->aborted) {
    memset(c->out, 0, sizeof *c->out);
    va_list ap;
    va_start(ap, fmt);
    vreport(c, ip, kp, kw, fmt, ap);
    va_end(ap);
    sunk(c);
  }
  c->aborted = 1;
  c->halt = 1;
  return 0;
}

/* ---- helpers ---- */

static unsigned type_bits(json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT:
      return SG__T_OBJECT;
    case JSON_ARRAY:
      return SG__T_ARRAY;
    case JSON_STRING:
      return SG__T_STRING;
    case JSON_INTEGER:
      return SG__T_INTEGER | SG__T_NUMBER;
    case JSON_REAL: {
      double d = json_real_value(v);
      return SG__T_NUMBER | (isfinite(d) && d == floor(d) ? SG__T_INTEGER : 0);
    }
    case JSON_TRUE:
    case JSON_FALSE:
      return SG__T_BOOLEAN;
    default:
      return SG__T_NULL;
  }
}

/* The "type" bits every value of a JSON type has; a real with no fraction is an integer
   as well. */
static const unsigned char base_types[] = {
    [JSON_OBJECT] = SG__T_OBJECT, [JSON_ARRAY] = SG__T_ARRAY,
    [JSON_STRING] = SG__T_STRING, [JSON_INTEGER] = SG__T_INTEGER | SG__T_NUMBER,
    [JSON_REAL] = SG__T_NUMBER,   [JSON_TRUE] = SG__T_BOOLEAN,
    [JSON_FALSE] = SG__T_BOOLEAN, [JSON_NULL] = SG__T_NULL};

static int type_ok(unsigned types, json_t *v) {
  if (types & base_types[json_typeof(v)]) return 1;
  if (!json_is_real(v) || !(types & SG__T_INTEGER)) return 0;
  double d = json_real_value(v);
  return isfinite(d) && d == floor(d);
}

/* The names of the SG__T_* bits, each padded to 8 bytes so that it is copied in one move. */
static const char type_names[7][8] = {"null",   "boolean", "object", "array",
                                      "number", "string",  "integer"};
static const unsigned char type_name_lens[7] = {4, 7, 6, 5, 6, 6, 7};

/* Writes the types, "string or null", in at most 66 bytes; returns the length, without a
   NUL. */
static size_t type_list(char *buf, unsigned types) {
  size_t pos = 0;
  types &= 0x7f;
  if (types == 0) return put_literal(buf, "nothing");
  for (;;) {
    int i = __builtin_ctz(types);
    memcpy(buf + pos, type_names[i], 8);
    pos += type_name_lens[i];
    types &= types - 1;
    if (types == 0) return pos;
    pos += put_literal(buf + pos, " or ");
  }
}

/* type_name(v) written at buf (8 bytes); returns its length. */
static size_t type_name_to(char *buf, json_t *v) {
  static const unsigned char bit[] = {
      [JSON_OBJECT] = 2, [JSON_ARRAY] = 3, [JSON_STRING] = 5, [JSON_INTEGER] = 6,
      [JSON_REAL] = 4,   [JSON_TRUE] = 1,  [JSON_FALSE] = 1,  [JSON_NULL] = 0};
  int i = bit[json_typeof(v)];
  memcpy(buf, type_names[i], 8);
  return type_name_lens[i];
}

/* The shortest spelling of d that reads back the same. */
static void real_text(char *buf, size_t cap, double d) {
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, cap, "%.*g", prec, d);
    if (strtod(buf, NULL) == d) return;
  }
}

/* Writes n in at most 64 bytes; returns the length, without the NUL. */
static size_t num_text(char *buf, const sg__num_t *n) {
  if (n->is_int) {
    long long v = (long long)n->i;
    char digits[24];
    char *d = decimal(digits, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v);
    if (v < 0) *--d = '-';
    size_t len = (size_t)(digits + sizeof digits - d);
    copy_short(buf, d, len);
    return len;
  }
  real_text(buf, 64, n->d);
  return strlen(buf);
}

static int is_multiple(json_t *v, const sg__num_t *m) {
  if (json_is_integer(v) && m->is_int) return json_integer_value(v) % m->i == 0;
  double a = json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
  if (a == 0) return 1;
  double q = a / m->d;
  /* When the quotient overflows, the remainder is still exact. */
  if (!isfinite(q)) return isfinite(a) && fmod(a, m->d) == 0;
  /* Allow for the rounding of a, m and the division: a few dozen units in the last place
     of q, which is far below any fraction that a real multiple would leave. */
  return fabs(q - nearbyint(q)) <= fmax(fabs(q), 1.0) * 1e-14;
}

static const sg__prop_t *find_prop(const sg__node_t *n, const char *key, size_t len) {
  size_t lo = 0, hi = n->nprops;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const sg__prop_t *p = &n->props[mid];
    size_t k = p->len < len ? p->len : len;
    int r = memcmp(p->name, key, k);
    if (r == 0) r = (p->len > len) - (p->len < len);
    if (r == 0) return p;
    if (r < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return NULL;
}

/* A short spelling of a scalar from the schema, for messages: strings quoted and clipped,
   numbers, true, false, null. 0 for arrays, objects and strings that need escaping. */
static int scalar_text(char *buf, size_t cap, json_t *v) {
  char q[48];
  switch (json_typeof(v)) {
    case JSON_STRING: {
      const char *s = json_string_value(v);
      size_t len = json_string_length(v);
      for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\') return 0;
      clip(q, 24, s, len);
      size_t pos = put(buf, cap, 0, "\"", 1);
      pos = put(buf, cap, pos, q, strlen(q));
      put(buf, cap, pos, "\"", 1);
      return 1;
    }
    case JSON_INTEGER: {
      json_int_t i = json_integer_value(v);
      put_decimal(buf, cap, 0, i < 0 ? 0ull - (unsigned long long)i : (unsigned long long)i, i < 0);
      return 1;
    }
    case JSON_REAL:
      real_text(buf, cap, json_real_value(v));
      return 1;
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL: {
      const char *w = json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null";
      put(buf, cap, 0, w, strlen(w));
    }
      return 1;
    default:
      return 0;
  }
}

/* The allowed values of an enum, when they are a few short scalars. */
static int values_text(char *buf, size_t cap, json_t *values) {
  size_t n = json_array_size(values), pos = 0;
  if (n == 0 || n > 8) return 0;
  for (size_t i = 0; i < n; i++) {
    char one[64];
    if (!scalar_text(one, sizeof one, json_array_get(values, i))) return 0;
    const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
    size_t need = strlen(sep) + strlen(one);
    if (pos + need + 1 > cap) return 0;
    copy_short(buf + pos, sep, strlen(sep));
    copy_short(buf + pos + strlen(sep), one, strlen(one));
    pos += need;
  }
  buf[pos] = '\0';
  return 1;
}

/* ---- uniqueItems ---- */

static uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

/* A hash consistent with sg__json_equal: 1 and 1.0 hash alike; member order is ignored. */
static uint64_t value_hash(json_t *v) {
  switch (json_typeof(v)) {
    case JSON_INTEGER:
      return mix((uint64_t)json_integer_value(v) + 1);
    case JSON_REAL: {
      double d = json_real_value(v);
      if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return mix((uint64_t)(json_int_t)d + 1);
      uint64_t bits;
      memcpy(&bits, &d, sizeof bits);
      return mix(bits ^ 0x5555);
    }
    case JSON_STRING: {
      uint64_t h = 1469598103934665603ull;
      const unsigned char *s = (const unsigned char *)json_string_value(v);
      for (size_t i = 0, n = json_string_length(v); i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
      return h;
    }
    case JSON_ARRAY: {
      uint64_t h = 0xa77a;
      for (size_t i = 0; i < json_array_size(v); i++)
        h = mix(h * 31 + value_hash(json_array_get(v, i)));
      return h;
    }
    case JSON_OBJECT: {
      uint64_t h = 0x0b1ec7;
      const char *k;
      size_t klen;
      json_t *m;
      json_object_keylen_foreach(v, k, klen, m) {
        uint64_t kh = 1469598103934665603ull;
        for (size_t i = 0; i < klen; i++) kh = (kh ^ (unsigned char)k[i]) * 1099511628211ull;
        h += mix(kh ^ value_hash(m));
      }
      return h;
    }
    case JSON_TRUE:
      return 0x7e;
    case JSON_FALSE:
      return 0xfa;
    default:
      return 0x11;
  }
}

typedef struct {
  uint64_t h;
  size_t i;
} hidx_t;

static int hidx_cmp(const void *a, const void *b) {
  const hidx_t *x = a, *y = b;
  if (x->h != y->h) return x->h < y->h ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

/* Whether two items are equal, each given with its string (s NULL when it is not one):
   strings, the usual items, compare by their bytes, read once per item by the caller; a
   string never equals anything else. */
static inline int items_equal(json_t *a, const char *sa, size_t la, json_t *b, const char *sb,
                              size_t lb) {
  if (sa || sb) return sa && sb && la == lb && memcmp(sa, sb, la) == 0;
  return sg__json_equal(a, b);
}

/* The first two equal items of the n (at most 32) in v, as find_duplicate finds them. */
static int duplicate_in(json_t **v, size_t n, size_t *a, size_t *b) {
  const char *s[32];
  size_t len[32];
  for (size_t i = 0; i < n; i++) {
    s[i] = NULL;
    len[i] = 0;
    if (json_is_string(v[i])) {
      s[i] = json_string_value(v[i]);
      len[i] = json_string_length(v[i]);
    }
  }
  for (size_t i = 0; i < n; i++)
    for (size_t k = i + 1; k < n; k++) {
      if (items_equal(v[i], s[i], len[i], v[k], s[k], len[k])) {
        *a = i;
        *b = k;
        return 1;
      }
    }
  return 0;
}

/* Finds two equal items; returns 1 and sets *a < *b when there are. Small arrays are
   compared pairwise; larger ones are sorted by hash (the one allocation validation may
   make, and only for uniqueItems over more than 32 items). -1 when memory runs out. */
static int find_duplicate(json_t *arr, size_t *a, size_t *b) {
  size_t n = json_array_size(arr);
  if (n <= 32) {
    json_t *v[32];
    for (size_t i = 0; i < n; i++) v[i] = json_array_get(arr, i);
    return duplicate_in(v, n, a, b);
  }
  hidx_t *v = malloc(n * sizeof *v);
  if (v == NULL) return -1;
  for (size_t i = 0; i < n; i++) {
    v[i].h = value_hash(json_array_get(arr, i));
    v[i].i = i;
  }
  qsort(v, n, sizeof *v, hidx_cmp);
  int found = 0;
  for (size_t i = 0; i < n && !found; i++)
    for (size_t k = i + 1; k < n && v[k].h == v[i].h && !found; k++)
      if (sg__json_equal(json_array_get(arr, v[i].i), json_array_get(arr, v[k].i))) {
        *a = v[i].i < v[k].i ? v[i].i : v[k].i;
        *b = v[i].i < v[k].i ? v[k].i : v[i].i;
        found = 1;
      }
  free(v);
  return found;
}

/* ---- evaluation ---- */

static int v_node(vctx_t *c, const sg__node_t *n, json_t *inst, const ipath_t *ip,
                  const kpath_t *kp, const scope_t *sc);

static int probe(vctx_t *c, const sg__node_t *n, json_t *inst, const ipath_t *ip, const kpath_t *kp,
                 const scope_t *sc) {
  c->quiet++;
  int ok = v_node(c, n, inst, ip, kp, sc);
  c->quiet--;
  return ok && !c->aborted;
}

static int descend(vctx_t *c, const sg__edge_t *e, json_t *inst, const ipath_t *ip,
                   const kpath_t *kp, const scope_t *sc) {
  kpath_t k = {kp, e->path};
  return v_node(c, e->node, inst, ip, &k, sc);
}

static int probe_edge(vctx_t *c, const sg__edge_t *e, json_t *inst, const ipath_t *ip,
                      const kpath_t *kp, const scope_t *sc) {
  kpath_t k = {kp, e->path};
  return probe(c, e->node, inst, ip, &k, sc);
}

/* The node $dynamicRef leads to: the outermost resource in the dynamic scope that
   declares the anchor, else the statically resolved target. */
static const sg__node_t *dynamic_target(const sg__node_t *n, const scope_t *sc) {
  const sg__node_t *t = n->dynamic_ref.node;
  if (n->dynamic_anchor == NULL) return t;
  for (; sc; sc = sc->up)
    for (size_t i = 0; i < sc->res->ndynamic; i++)
      if (strcmp(sc->res->dynamic[i].name, n->dynamic_anchor) == 0) t = sc->res->dynamic[i].node;
  return t;
}

static int enter(vctx_t *c, const sg__node_t *n, const ipath_t *ip, const kpath_t *kp,
                 const scope_t *sc, scope_t *frame, const scope_t **out) {
  if (c->aborted) return 0;
  if (c->depth >= SG__MAX_DEPTH)
    return abort_eval(c, ip, kp, "", "schema evaluation is nested too deeply (a $ref cycle?)");
  if (++c->depth > c->peak) c->peak = c->depth;
  *out = sc;
  if (c->dynamic && n->res && (sc == NULL || sc->res != n->res)) {
    frame->up = sc;
    frame->res = n->res;
    *out = frame;
  }
  return 1;
}

/* One bit per object member (in iteration order) or array item: what the keywords beside
   unevaluatedProperties/unevaluatedItems, and their in-place subschemas, evaluated. */
typedef struct {
  uint64_t *bits;
  size_t n;
} marks_t;

#define MARKS_ON_STACK 512 /* members or items covered without allocating */

static void mark(marks_t *m, size_t i) {
  m->bits[i / 64] |= (uint64_t)1 << (i % 64);
}
static int marked(const marks_t *m, size_t i) {
  return (m->bits[i / 64] >> (i % 64)) & 1;
}
static void mark_all(marks_t *m) {
  for (size_t i = 0; i < m->n; i++) mark(m, i);
}

/* Marks the members of inst that n evaluates (n's own unevaluatedProperties excepted when
   self is set). n is known to validate inst, so its allOf and $ref targets do too; the
   branches of anyOf, oneOf and if are probed, since only valid ones count. */
static void mark_props(vctx_t *c, const sg__node_t *n, json_t *inst, marks_t *m, const scope_t *sc,
                       int self) {
  scope_t frame;
  if (n->boolean >= 0 || !enter(c, n, NULL, NULL, sc, &frame, &sc)) return;
  if (n->additional.node || (!self && n->unevaluated_props.node)) {
    mark_all(m);
    goto done;
  }
  if (n->nprops || n->npatprops) {
    const char *key;
    size_t klen, i = 0;
    json_t *v;
    json_object_keylen_foreach(inst, key, klen, v) {
      int hit = find_prop(n, key, klen) != NULL;
      for (size_t k = 0; !hit && k < n->npatprops; k++) {
        int r = sg__regex_search(n->patprops[k].re, key, klen);
        if (r == SG__RE_LIMIT)
          abort_eval(c, NULL, NULL, "patternProperties", "pattern matching exceeded its limits");
        hit = r == SG__RE_MATCH;
      }
      if (hit) mark(m, i);
      i++;
    }
  }
  if (n->ref.node) mark_props(c, n->ref.node, inst, m, sc, 0);
  if (n->dynamic_ref.node) mark_props(c, dynamic_target(n, sc), inst, m, sc, 0);
  for (size_t i = 0; i < n->nall_of; i++) mark_props(c, n->all_of[i].node, inst, m, sc, 0);
  for (size_t i = 0; i < n->nany_of; i++)
    if (probe(c, n->any_of[i].node, inst, NULL, NULL, sc))
      mark_props(c, n->any_of[i].node, inst, m, sc, 0);
  for (size_t i = 0; i < n->none_of; i++)
    if (probe(c, n->one_of[i].node, inst, NULL, NULL, sc))
      mark_props(c, n->one_of[i].node, inst, m, sc, 0);
  if (n->if_.node) {
    if (probe(c, n->if_.node, inst, NULL, NULL, sc)) {
      mark_props(c, n->if_.node, inst, m, sc, 0);
      if (n->then_.node) mark_props(c, n->then_.node, inst, m, sc, 0);
    } else if (n->else_.node) {
      mark_props(c, n->else_.node, inst, m, sc, 0);
    }
  }
  for (size_t i = 0; i < n->ndep_schemas; i++)
    if (json_object_get(inst, n->dep_schemas[i].name))
      mark_props(c, n->dep_schemas[i].edge.node, inst, m, sc, 0);
done:
  c->depth--;
}

/* The same for the items of an array, for unevaluatedItems. */
static void mark_items(vctx_t *c, const sg__node_t *n, json_t *inst, marks_t *m, const scope_t *sc,
                       int self) {
  scope_t frame;
  if (n->boolean >= 0 || !enter(c, n, NULL, NULL, sc, &frame, &sc)) return;
  if (n->items.node || (!self && n->unevaluated_items.node)) {
    mark_all(m);
    goto done;
  }
  for (size_t i = 0; i < n->nprefix && i < m->n; i++) mark(m, i);
  if (n->contains.node)
    for (size_t i = 0; i < m->n; i++)
      if (!marked(m, i) && probe(c, n->contains.node, json_array_get(inst, i), NULL, NULL, sc))
        mark(m, i);
  if (n->ref.node) mark_items(c, n->ref.node, inst, m, sc, 0);
  if (n->dynamic_ref.node) mark_items(c, dynamic_target(n, sc), inst, m, sc, 0);
  for (size_t i = 0; i < n->nall_of; i++) mark_items(c, n->all_of[i].node, inst, m, sc, 0);
  for (size_t i = 0; i < n->nany_of; i++)
    if (probe(c, n->any_of[i].node, inst, NULL, NULL, sc))
      mark_items(c, n->any_of[i].node, inst, m, sc, 0);
  for (size_t i = 0; i < n->none_of; i++)
    if (probe(c, n->one_of[i].node, inst, NULL, NULL, sc))
      mark_items(c, n->one_of[i].node, inst, m, sc, 0);
  if (n->if_.node) {
    if (probe(c, n->if_.node, inst, NULL, NULL, sc)) {
      mark_items(c, n->if_.node, inst, m, sc, 0);
      if (n->then_.node) mark_items(c, n->then_.node, inst, m, sc, 0);
    } else if (n->else_.node) {
      mark_items(c, n->else_.node, inst, m, sc, 0);
    }
  }
done:
  c->depth--;
}

/* An instance number, read once for all the comparisons of a node. */
typedef struct {
  int is_int;
  json_int_t i;
  double d;
} inum_t;

/* Compares an instance number with a schema number: -1, 0 or 1, exactly. */
static inline __attribute__((always_inline)) int inum_cmp(const inum_t *a, const sg__num_t *n) {
  const json_int_t lim = (json_int_t)1 << 53;
  if (a->is_int) {
    if (n->is_int) return (a->i > n->i) - (a->i < n->i);
    if (a->i >= -lim && a->i <= lim) return (a->d > n->d) - (a->d < n->d);
    long double x = (long double)a->i, y = (long double)n->d;
    return (x > y) - (x < y);
  }
  if (!n->is_int || n->exact) return (a->d > n->d) - (a->d < n->d);
  long double x = (long double)a->d, y = (long double)n->i;
  return (x > y) - (x < y);
}

enum { N_MIN, N_MAX, N_EXMIN, N_EXMAX, N_MULTIPLE };

static __attribute__((noinline, cold)) int number_fail(vctx_t *c, const sg__node_t *n, int which,
                                                       const ipath_t *ip, const kpath_t *kp) {
  /* For each of N_*: the keyword, the message up to the limit, and the limit. The text is
     copied whole, NULs after it and all, which costs less than copying its length. */
  static const struct {
    const char *kw;
    char text[32];
    unsigned char kwlen, textlen;
    unsigned short limit;
  } kinds[] = {
#define NUMBER_KIND(kw, text, field) \
  {kw, text, sizeof(kw) - 1, sizeof(text) - 1, offsetof(sg__node_t, field)}
      NUMBER_KIND("minimum", "number is less than ", minimum),
      NUMBER_KIND("maximum", "number is greater than ", maximum),
      NUMBER_KIND("exclusiveMinimum", "number is not greater than ", ex_minimum),
      NUMBER_KIND("exclusiveMaximum", "number is not less than ", ex_maximum),
      NUMBER_KIND("multipleOf", "number is not a multiple of ", multiple_of),
#undef NUMBER_KIND
  };
  if (!reporting(c)) return 0;
  if (c->scoring) return score_fail(c, ip, kinds[which].kw);
  char *m = c->out->message;
  size_t len = kinds[which].textlen;
  memcpy(m, kinds[which].text, sizeof kinds[which].text);
  len += num_text(m + len, (const sg__num_t *)((const char *)n + kinds[which].limit));
  m[len] = '\0';
  return report(c, ip, kp, kinds[which].kw, kinds[which].kwlen, 0);
}

static inline __attribute__((always_inline)) int v_number(vctx_t *c, const sg__node_t *n,
                                                          json_t *inst, const ipath_t *ip,
                                                          const kpath_t *kp) {
  inum_t a;
  a.is_int = json_is_integer(inst);
  if (a.is_int) {
    a.i = json_integer_value(inst);
    a.d = (double)a.i;
  } else {
    a.i = 0;
    a.d = json_real_value(inst);
  }
  if ((n->minimum.set && inum_cmp(&a, &n->minimum) < 0) && !number_fail(c, n, N_MIN, ip, kp))
    return 0;
  if ((n->maximum.set && inum_cmp(&a, &n->maximum) > 0) && !number_fail(c, n, N_MAX, ip, kp))
    return 0;
  if ((n->ex_minimum.set && inum_cmp(&a, &n->ex_minimum) <= 0) &&
      !number_fail(c, n, N_EXMIN, ip, kp))
    return 0;
  if ((n->ex_maximum.set && inum_cmp(&a, &n->ex_maximum) >= 0) &&
      !number_fail(c, n, N_EXMAX, ip, kp))
    return 0;
  if ((n->multiple_of.set && !is_multiple(inst, &n->multiple_of)) &&
      !number_fail(c, n, N_MULTIPLE, ip, kp))
    return 0;
  return 1;
}

enum { S_MIN, S_MAX, S_PATTERN, S_FORMAT };

static __attribute__((noinline, cold)) int string_fail(vctx_t *c, const sg__node_t *n, int which,
                                                       const ipath_t *ip, const kpath_t *kp) {
  char q[48];
  if (!reporting(c)) return 0;
  switch (which) {
    case S_MIN:
      return fail(c, ip, kp, "minLength", "string is shorter than %ld character%s", n->min_length,
                  n->min_length == 1 ? "" : "s");
    case S_MAX:
      return fail(c, ip, kp, "maxLength", "string is longer than %ld character%s", n->max_length,
                  n->max_length == 1 ? "" : "s");
    case S_PATTERN:
      return fail(c, ip, kp, "pattern", "string does not match the pattern \"%s\"",
                  clip(q, sizeof q, n->pattern_src, strlen(n->pattern_src)));
    default:
      return fail(c, ip, kp, "format", "string is not a valid %s",
                  clip(q, sizeof q, n->format_name, strlen(n->format_name)));
  }
}

static inline __attribute__((always_inline)) int v_string(vctx_t *c, const sg__node_t *n,
                                                          json_t *inst, const ipath_t *ip,
                                                          const kpath_t *kp) {
  const char *s = json_string_value(inst);
  size_t len = json_string_length(inst);
  /* A string has at most as many code points as bytes, and at least a quarter as many. */
  if ((n->min_length >= 0 && len / 4 < (size_t)n->min_length &&
       sg__utf8_length(s, len) < (size_t)n->min_length) &&
      !string_fail(c, n, S_MIN, ip, kp))
    return 0;
  if ((n->max_length >= 0 && len > (size_t)n->max_length &&
       sg__utf8_length(s, len) > (size_t)n->max_length) &&
      !string_fail(c, n, S_MAX, ip, kp))
    return 0;
  if (n->pattern) {
    int m = n->pattern_simple ? sg__regex_simple_search(n->pattern_simple, s, len) : SG__RE_UNKNOWN;
    if (m == SG__RE_UNKNOWN) m = sg__regex_search(n->pattern, s, len);
    if (m == SG__RE_LIMIT)
      return abort_eval(c, ip, kp, "pattern", "pattern matching exceeded its limits");
    if ((m == SG__RE_NOMATCH) && !string_fail(c, n, S_PATTERN, ip, kp)) return 0;
  }
  if ((n->format != SG__F_NONE && !sg__format_check(n->format, s, len)) &&
      !string_fail(c, n, S_FORMAT, ip, kp))
    return 0;
  return 1;
}

/* What v_false reports when it does not reject a member: the message written at m, whose
   length is returned. Out of line, so that rejecting a member needs no buffer of its own. */
static __attribute__((noinline, cold)) size_t false_text(char *m, const ipath_t *ip) {
  if (ip == NULL) return put_literal(m, "no value is allowed here");
  char digits[24];
  char *d = decimal(digits, ip->index);
  size_t len = put_literal(m, "item ");
  copy_short(m + len, d, (size_t)(digits + sizeof digits - d));
  len += (size_t)(digits + sizeof digits - d);
  return len + put_literal(m + len, " is not allowed");
}

/* score_fail for a keyword of kwlen bytes, not ended by a NUL. */
static __attribute__((noinline, cold)) int score_fail_n(vctx_t *c, const ipath_t *ip,
                                                        const char *kw, size_t kwlen) {
  char name[sizeof c->out->keyword];
  copy_short(name, kw, kwlen);
  name[kwlen] = '\0';
  return score_fail(c, ip, name);
}

static __attribute__((noinline)) int v_false(vctx_t *c, const ipath_t *ip, const kpath_t *kp) {
  if (!reporting(c)) return 0;
  /* The keyword is the path's first step, cut as the error's field cuts it. */
  const char *kw = "false";
  size_t kwlen = 5;
  if (kp) {
    kw = kp->rel;
    kwlen = sg__edge_kwlen(kw);
    if (kwlen >= sizeof c->out->keyword) kwlen = sizeof c->out->keyword - 1;
  }
  if (c->scoring) return score_fail_n(c, ip, kw, kwlen);
  char *m = c->out->message;
  size_t len;
  if (ip && ip->key) {
    len = put_literal(m, "property \"");
    /* The name ends at a NUL in it, as a C string does: looked for only when a short
       name holds one of the bytes copy_token finds, or a long one is cut. */
    if (ip->keylen <= 40 && !copy_token(m + len, ip->key, ip->keylen))
      len += ip->keylen;
    else
      len += until_nul(m + len, clip_to(m + len, 40, ip->key, ip->keylen));
    len += put_literal(m + len, "\" is not allowed");
  } else {
    len = false_text(m, ip);
  }
  m[len] = '\0';
  return report(c, ip, kp, kw, kwlen, 1);
}

static int same_str(json_t *inst, const sg__str_t *s) {
  return sg__str_eq(s, json_string_value(inst), json_string_length(inst));
}

static int in_enum(const sg__node_t *n, json_t *inst) {
  if (n->enum_strs) {
    if (!json_is_string(inst)) return 0;
    /* The string is read once for all the values. */
    const char *p = json_string_value(inst);
    size_t len = json_string_length(inst);
    for (size_t i = 0; i < n->nenum_strs; i++)
      if (sg__str_eq(&n->enum_strs[i], p, len)) return 1;
    return 0;
  }
  size_t size = json_array_size(n->enum_);
  for (size_t i = 0; i < size; i++)
    if (sg__json_equal(inst, json_array_get(n->enum_, i))) return 1;
  return 0;
}

enum { G_TYPE, G_ENUM, G_CONST };

static __attribute__((noinline, cold)) int value_fail(vctx_t *c, const sg__node_t *n, int which,
                                                      json_t *inst, const ipath_t *ip,
                                                      const kpath_t *kp) {
  char buf[160];
  if (!reporting(c)) return 0;
  if (c->scoring)
    return score_fail(c, ip, which == G_TYPE ? "type" : which == G_ENUM ? "enum" : "const");
  switch (which) {
    case G_TYPE: {
      /* "expected %s, got %s" with the type list, which fits easily */
      char *m = c->out->message;
      size_t len = put_literal(m, "expected ");
      len += type_list(m + len, n->types);
      len += put_literal(m + len, ", got ");
      len += type_name_to(m + len, inst);
      m[len] = '\0';
      return report(c, ip, kp, "type", 4, 0);
    }
    case G_ENUM:
      if (values_text(buf, sizeof buf, n->enum_))
        return fail_text(c, ip, kp, "enum", "value is not one of ", buf, "");
      return fail(c, ip, kp, "enum", "value is not one of the allowed values");
    default:
      if (scalar_text(buf, 64, n->const_))
        return fail_text(c, ip, kp, "const", "value must be ", buf, "");
      return fail(c, ip, kp, "const", "value is not the required constant");
  }
}

static __attribute__((noinline)) int v_slow(vctx_t *c, const sg__node_t *n, json_t *inst,
                                            const ipath_t *ip, const kpath_t *kp,
                                            const scope_t *sc);
static __attribute__((noinline)) int v_plain(vctx_t *c, const sg__node_t *n, json_t *inst,
                                             const ipath_t *ip, const kpath_t *kp,
                                             const scope_t *sc);
static __attribute__((noinline)) int v_alt_only(vctx_t *c, const sg__node_t *n, json_t *inst,
                                                const ipath_t *ip, const kpath_t *kp,
                                                const scope_t *sc);

/* The keywords of a node that is not a leaf, past those v_leaf checks. */
static inline __attribute__((always_inline)) int v_rest(vctx_t *c, const sg__node_t *n,
                                                        json_t *inst, const ipath_t *ip,
                                                        const kpath_t *kp, const scope_t *sc) {
  unsigned kw = n->kw;
  if (kw & SG__K_PLAIN) return v_plain(c, n, inst, ip, kp, sc);
  if (kw & SG__K_ALT_ONLY) return v_alt_only(c, n, inst, ip, kp, sc);
  return v_slow(c, n, inst, ip, kp, sc);
}

/* The keywords of n that apply to inst itself: its type, enum, const, and those of
   numbers and strings. */
static inline __attribute__((always_inline)) int v_leaf(vctx_t *c, const sg__node_t *n,
                                                        json_t *inst, const ipath_t *ip,
                                                        const kpath_t *kp) {
  unsigned kw = n->kw;
  if (kw & SG__K_FALSE) return v_false(c, ip, kp);
  if (((kw & SG__K_TYPE) && !type_ok(n->types, inst)) && !value_fail(c, n, G_TYPE, inst, ip, kp))
    return 0;
  if (((kw & SG__K_ENUM) && !in_enum(n, inst)) && !value_fail(c, n, G_ENUM, inst, ip, kp)) return 0;
  if (((kw & SG__K_CONST) &&
       !(n->const_str.s ? json_is_string(inst) && same_str(inst, &n->const_str)
                        : sg__json_equal(inst, n->const_))) &&
      !value_fail(c, n, G_CONST, inst, ip, kp))
    return 0;
  switch (json_typeof(inst)) {
    case JSON_INTEGER:
    case JSON_REAL:
      if ((kw & SG__K_NUMBER) && !v_number(c, n, inst, ip, kp)) return 0;
      break;
    case JSON_STRING:
      if ((kw & SG__K_STRING) && !v_string(c, n, inst, ip, kp)) return 0;
      break;
    default:
      break;
  }
  return 1;
}

/* v_leaf for a node that is not a leaf, whose own keywords are most often none or a
   "type" alone: those are checked first, v_leaf only when they fail or are more. */
static inline __attribute__((always_inline)) int own_ok(const sg__node_t *n, json_t *inst,
                                                        vctx_t *c, const ipath_t *ip,
                                                        const kpath_t *kp) {
  if (n->leaf == SG__LEAF_NONE || (n->leaf == SG__LEAF_TYPE && type_ok(n->types, inst))) return 1;
  return v_leaf(c, n, inst, ip, kp);
}

/* leaf_check for an SG__LEAF_STRING node over the string s of len bytes. */
static inline __attribute__((always_inline)) int string_leaf_check(const sg__node_t *n,
                                                                   const char *s, size_t len) {
  if ((n->min_length >= 0 && len / 4 < (size_t)n->min_length &&
       sg__utf8_length(s, len) < (size_t)n->min_length) ||
      (n->max_length >= 0 && len > (size_t)n->max_length &&
       sg__utf8_length(s, len) > (size_t)n->max_length))
    return 0;
  if (n->pattern == NULL) return 1;
  int m = sg__regex_simple_search(n->pattern_simple, s, len);
  return m == SG__RE_MATCH ? 1 : m == SG__RE_NOMATCH ? 0 : -1;
}

/* descend, with a leaf checked in place rather than through v_node. */
/* Whether n's keywords for inst itself (those v_leaf checks) hold: 1 yes, 0 no, -1 when
   only PCRE2 can tell. Nothing is reported and no limit is hit; a caller that gets
   anything but 1 runs v_leaf, which reports. */
static inline __attribute__((always_inline)) int leaf_check(const sg__node_t *n, json_t *inst) {
  switch (n->leaf) {
    case SG__LEAF_NONE:
      return 1;
    case SG__LEAF_TYPE:
      return type_ok(n->types, inst);
    case SG__LEAF_ENUM:
      return in_enum(n, inst);
    case SG__LEAF_CONST:
      return json_is_string(inst) && same_str(inst, &n->const_str);
    case SG__LEAF_STRING:
      if (!json_is_string(inst)) return 0;
      return string_leaf_check(n, json_string_value(inst), json_string_length(inst));
    case SG__LEAF_NUMBER: {
      inum_t a;
      if (json_is_integer(inst)) {
        a.is_int = 1;
        a.i = json_integer_value(inst);
        a.d = (double)a.i;
      } else if (json_is_real(inst) && type_ok(n->types, inst)) {
        a.is_int = 0;
        a.i = 0;
        a.d = json_real_value(inst);
      } else {
        return 0;
      }
      return !((n->minimum.set && inum_cmp(&a, &n->minimum) < 0) ||
               (n->maximum.set && inum_cmp(&a, &n->maximum) > 0) ||
               (n->ex_minimum.set && inum_cmp(&a, &n->ex_minimum) <= 0) ||
               (n->ex_maximum.set && inum_cmp(&a, &n->ex_maximum) >= 0));
    }
    default:
      break;
  }
  unsigned kw = n->kw;
  if (kw & SG__K_FALSE) return 0;
  if ((kw & SG__K_TYPE) && !type_ok(n->types, inst)) return 0;
  if ((kw & SG__K_ENUM) && !in_enum(n, inst)) return 0;
  if ((kw & SG__K_CONST) && !(n->const_str.s ? json_is_string(inst) && same_str(inst, &n->const_str)
                                             : sg__json_equal(inst, n->const_)))
    return 0;
  switch (json_typeof(inst)) {
    case JSON_INTEGER:
    case JSON_REAL:
      if (kw & SG__K_NUMBER) {
        inum_t a;
        a.is_int = json_is_integer(inst);
        a.i = a.is_int ? json_integer_value(inst) : 0;
        a.d = a.is_int ? (double)a.i : json_real_value(inst);
        if ((n->minimum.set && inum_cmp(&a, &n->minimum) < 0) ||
            (n->maximum.set && inum_cmp(&a, &n->maximum) > 0) ||
            (n->ex_minimum.set && inum_cmp(&a, &n->ex_minimum) <= 0) ||
            (n->ex_maximum.set && inum_cmp(&a, &n->ex_maximum) >= 0) ||
            (n->multiple_of.set && !is_multiple(inst, &n->multiple_of)))
          return 0;
      }
      return 1;
    case JSON_STRING:
      if (kw & SG__K_STRING) {
        const char *s = json_string_value(inst);
        size_t len = json_string_length(inst);
        if ((n->min_length >= 0 && len / 4 < (size_t)n->min_length &&
             sg__utf8_length(s, len) < (size_t)n->min_length) ||
            (n->max_length >= 0 && len > (size_t)n->max_length &&
             sg__utf8_length(s, len) > (size_t)n->max_length))
          return 0;
        if (n->pattern) {
          if (n->pattern_simple == NULL) return -1;
          int m = sg__regex_simple_search(n->pattern_simple, s, len);
          if (m != SG__RE_MATCH) return m == SG__RE_NOMATCH ? 0 : -1;
        }
        if (n->format != SG__F_NONE && !sg__format_check(n->format, s, len)) return 0;
      }
      return 1;
    default:
      return 1;
  }
}

/* leaf_items_check with uniqueItems, over size items (at most 32), in one pass: each item
   is checked against its leaf and compared with those before it (items_equal), a string
   read once for both. */
static inline __attribute__((always_inline)) int unique_leaf_items_check(const sg__node_t *n,
                                                                         json_t *inst,
                                                                         size_t size) {
  json_t *v[32];
  const char *s[32];
  size_t len[32];
  for (size_t i = 0; i < size; i++) {
    json_t *item = v[i] = json_array_get(inst, i);
    const sg__node_t *t = i < n->nprefix ? n->prefix[i].node : n->items.node; /* NULL: none */
    s[i] = NULL;
    len[i] = 0;
    if (json_is_string(item)) {
      s[i] = json_string_value(item);
      len[i] = json_string_length(item);
      if (t && (t->leaf == SG__LEAF_STRING ? string_leaf_check(t, s[i], len[i])
                                           : leaf_check(t, item)) != 1)
        return 0;
    } else if (t && leaf_check(t, item) != 1) {
      return 0;
    }
    for (size_t k = 0; k < i; k++)
      if (items_equal(v[k], s[k], len[k], item, s[i], len[i])) return 0;
  }
  return 1;
}

/* For an SG__K_LEAF_ITEMS node, whether its keywords hold over inst, as leaf_check tells
   for a leaf: 1 yes, else 0 or -1, and the caller evaluates the node, which reports. Past
   32 items, uniqueItems is left to that evaluation. */
static __attribute__((noinline)) int leaf_items_check(const sg__node_t *n, json_t *inst) {
  if (!(n->leaf == SG__LEAF_NONE || (n->leaf == SG__LEAF_TYPE && type_ok(n->types, inst))) &&
      leaf_check(n, inst) != 1)
    return 0;
  if (!json_is_array(inst)) return 1;
  size_t size = json_array_size(inst);
  if ((n->min_items >= 0 && size < (size_t)n->min_items) ||
      (n->max_items >= 0 && size > (size_t)n->max_items))
    return 0;
  if (n->unique_items) return size <= 32 ? unique_leaf_items_check(n, inst, size) : -1;
  /* Without items, those past prefixItems are not checked. */
  size_t end = n->items.node || size < n->nprefix ? size : n->nprefix;
  for (size_t i = 0; i < end; i++) {
    const sg__node_t *t = i < n->nprefix ? n->prefix[i].node : n->items.node;
    json_t *item = json_array_get(inst, i);
    if (t->leaf == SG__LEAF_TYPE ? !type_ok(t->types, item) : leaf_check(t, item) != 1) return 0;
  }
  return 1;
}

/* For an SG__K_ALT_LEAVES node, whether it holds, as its own and its alternatives' leaf
   checks tell: 1 yes, 0 when it may not or they cannot tell, and the caller enters the
   node, which reports. The alternatives are taken in the order evaluation probes them,
   and one that only PCRE2 can tell stops the check where evaluation would ask PCRE2, so
   that a limit PCRE2 might hit is met as before. */
static __attribute__((noinline)) int alt_leaves_check(const sg__node_t *n, json_t *inst) {
  if (n->leaf != SG__LEAF_NONE && leaf_check(n, inst) != 1) return 0;
  if (n->nany_of) {
    size_t i = 0;
    int r = 0;
    while (i < n->nany_of && (r = leaf_check(n->any_of[i].node, inst)) == 0) i++;
    if (r != 1) return 0;
  }
  if (n->none_of) {
    size_t held = 0;
    for (size_t i = 0; i < n->none_of; i++) {
      int r = leaf_check(n->one_of[i].node, inst);
      if (r < 0 || (r == 1 && ++held > 1)) return 0;
    }
    if (held != 1) return 0;
  }
  return 1;
}

/* Whether e's node, SG__K_ALT_LEAVES, holds over inst without entering it (see
   alt_leaves_check), as descend_fast would find at this depth. Entering it would have
   reached one level down, its leaves none further (reached_below). */
static inline __attribute__((always_inline)) int alt_leaves_hold(vctx_t *c, const sg__node_t *n,
                                                                 json_t *inst) {
  if (c->halt || c->depth >= SG__MAX_DEPTH - 1 || alt_leaves_check(n, inst) != 1) return 0;
  reached_below(c);
  return 1;
}

static inline __attribute__((always_inline)) int descend_fast(vctx_t *c, const sg__edge_t *e,
                                                              json_t *inst, const ipath_t *ip,
                                                              const kpath_t *kp,
                                                              const scope_t *sc) {
  const sg__node_t *n = e->node;
  unsigned kw = n->kw;
  if (sg__is_leaf(n) && c->depth < SG__MAX_DEPTH) {
    /* A leaf enters no node below it and reads neither the depth nor the dynamic scope:
       only the depth limit applies (the peak depth is taken to be one more than that of
       the other nodes). After a limit was hit it may run, but still fails. Its checks
       run first without reporting (leaf_check); v_leaf runs them again only to report a
       failure, or to ask PCRE2. */
    int r = leaf_check(n, inst);
    if (r == 1) return !c->aborted;
    if (r == 0 && !reporting(c)) return 0;
    kpath_t k = {kp, e->path};
    return v_leaf(c, n, inst, ip, &k) && !c->aborted;
  }
  if ((kw & SG__K_LEAF_ITEMS) && c->depth < SG__MAX_DEPTH - 1 && leaf_items_check(n, inst) == 1) {
    /* An array of leaves that holds: the node would have been entered one level down, and
       its items, leaves, enter nothing. */
    reached_below(c);
    return !c->aborted;
  }
  if ((kw & SG__K_ALT_LEAVES) && alt_leaves_hold(c, n, inst)) return !c->aborted;
  if (c->halt || c->depth >= SG__MAX_DEPTH - 1) return descend(c, e, inst, ip, kp, sc);
  kpath_t k = {kp, e->path}, kref;
  const kpath_t *at = &k;
  int levels = 1;
  if (kw & SG__K_REF_ONLY) {
    /* A node that is only a $ref: its target is entered one level further down, with
       "$ref" in the keyword location, as v_node would. */
    n = n->ref.node;
    kw = n->kw;
    if (kw & SG__K_REF_ONLY) return descend(c, e, inst, ip, kp, sc);
    kref = (kpath_t){&k, e->node->ref.path};
    at = &kref;
    levels = 2;
  }
  c->depth += levels;
  if (c->depth > c->peak) c->peak = c->depth;
  int ok = own_ok(n, inst, c, ip, at) && (!(kw & SG__K_NOT_LEAF) || v_rest(c, n, inst, ip, at, sc));
  c->depth -= levels;
  return ok && !c->aborted;
}

/* probe_edge, entering the node in place. */
static inline __attribute__((always_inline)) int probe_fast(vctx_t *c, const sg__edge_t *e,
                                                            json_t *inst, const ipath_t *ip,
                                                            const kpath_t *kp, const scope_t *sc) {
  c->quiet++;
  int ok = descend_fast(c, e, inst, ip, kp, sc);
  c->quiet--;
  return ok && !c->aborted;
}

/* minItems and maxItems, or minProperties and maxProperties, over a count of items or
   members (a bound of -1 is absent). */
typedef struct {
  const char *min_kw, *max_kw, *value, *one, *many;
} count_words_t;
static const count_words_t item_words = {"minItems", "maxItems", "array", "item", "items"};
static const count_words_t property_words = {"minProperties", "maxProperties", "object", "property",
                                             "properties"};

static inline int count_ok(vctx_t *c, const ipath_t *ip, const kpath_t *kp, size_t size, long min,
                           long max, const count_words_t *w) {
  if ((min >= 0 && size < (size_t)min) && !fail(c, ip, kp, w->min_kw, "%s has fewer than %ld %s",
                                                w->value, min, min == 1 ? w->one : w->many))
    return 0;
  if ((max >= 0 && size > (size_t)max) && !fail(c, ip, kp, w->max_kw, "%s has more than %ld %s",
                                                w->value, max, max == 1 ? w->one : w->many))
    return 0;
  return 1;
}

static int v_array(vctx_t *c, const sg__node_t *n, json_t *inst, const ipath_t *ip,
                   const kpath_t *kp, const scope_t *sc) {
  size_t size = json_array_size(inst);
  if (!count_ok(c, ip, kp, size, n->min_items, n->max_items, &item_words)) return 0;
  if (n->unique_items) {
    size_t a = 0, b = 0;
    int d = find_duplicate(inst, &a, &b);
    if (d < 0) return abort_eval(c, ip, kp, "uniqueItems", "out of memory");
    if ((d) && !fail(c, ip, kp, "uniqueItems", "items %zu and %zu are equal", a, b)) return 0;
  }
  size_t held = 0;
  const sg__node_t *all = n->items.node;
  if (all && (all->kw & SG__K_LEAF_ITEMS) && !n->nprefix && c->depth < SG__MAX_DEPTH - 1) {
    /* Arrays of arrays of leaves (tuples, matrices): the inner arrays are checked in place,
       as descend_fast would, up to the first that does not hold. */
    while (held < size && leaf_items_check(all, json_array_get(inst, held)) == 1) held++;
    if (held) reached_below(c);
  } else if (size && all && !sg__is_leaf(all) && !n->nprefix && !c->halt &&
             c->depth < SG__MAX_DEPTH - 1 &&
             !((all->kw & SG__K_REF_ONLY) && (all->ref.node->kw & SG__K_REF_ONLY))) {
    /* Items of one schema that is not a leaf: what descend_fast works out for each item
       (the target of a $ref, the keyword location, the depth) is worked out once. */
    const sg__node_t *t = all;
    kpath_t k = {kp, n->items.path}, kref = {&k, all->ref.path};
    const kpath_t *at = &k;
    int levels = 1, ok = 1;
    if (all->kw & SG__K_REF_ONLY) {
      t = all->ref.node;
      at = &kref;
      levels = 2;
    }
    c->depth += levels;
    if (c->depth > c->peak) c->peak = c->depth;
    for (; ok && held < size; held++) {
      json_t *item = json_array_get(inst, held);
      ipath_t p = {ip, NULL, 0, held};
      ok = own_ok(t, item, c, &p, at) &&
           (!(t->kw & SG__K_NOT_LEAF) || v_rest(c, t, item, &p, at, sc)) && !c->aborted;
    }
    c->depth -= levels;
    if (!ok) return 0;
  }
  for (size_t i = held; i < size; i++) {
    const sg__edge_t *e = i < n->nprefix ? &n->prefix[i] : &n->items;
    if (e->node == NULL) {
      if (i >= n->nprefix) break;
      continue;
    }
    json_t *item = json_array_get(inst, i);
    const sg__node_t *t = e->node;
    if (sg__is_leaf(t) && c->depth < SG__MAX_DEPTH && leaf_check(t, item) == 1) continue;
    ipath_t p = {ip, NULL, 0, i};
    if (!descend_fast(c, e, item, &p, kp, sc)) return 0;
  }
  if (n->contains.node) {
    long min = n->min_contains >= 0 ? n->min_contains : 1, count = 0;
    for (size_t i = 0; i < size; i++) {
      ipath_t p = {ip, NULL, 0, i};
      if (probe_edge(c, &n->contains, json_array_get(inst, i), &p, kp, sc)) count++;
      if (c->aborted) return 0;
      if (count >= min && n->max_contains < 0) break;
    }
    if (count < min) {
      if (n->min_contains >= 0)
        return fail(c, ip, kp, "minContains", "array has fewer than %ld matching items", min);
      return fail(c, ip, kp, "contains", "no item matches the \"contains\" schema");
    }
    if ((n->max_contains >= 0 && count > n->max_contains) &&
        !fail(c, ip, kp, "maxContains", "array has more than %ld matching item%s", n->max_contains,
              n->max_contains == 1 ? "" : "s"))
      return 0;
  }
  return 1;
}

/* Validates a property name for propertyNames without making a JSON string of it: only
   the string keywords and the in-place applicators can apply to a string. */
static int v_name(vctx_t *c, const sg__node_t *n, const char *key, size_t klen, const scope_t *sc) {
  scope_t frame;
  if (!enter(c, n, NULL, NULL, sc, &frame, &sc)) return 0;
  int ok = 0;
  if (n->boolean >= 0) {
    ok = n->boolean;
    goto done;
  }
  if (n->types && !(n->types & SG__T_STRING)) goto done;
  if (n->enum_) {
    size_t i, size = json_array_size(n->enum_);
    for (i = 0; i < size; i++) {
      json_t *e = json_array_get(n->enum_, i);
      if (json_is_string(e) && json_string_length(e) == klen &&
          memcmp(json_string_value(e), key, klen) == 0)
        break;
    }
    if (i == size) goto done;
  }
  if (n->has_const && !(json_is_string(n->const_) && json_string_length(n->const_) == klen &&
                        memcmp(json_string_value(n->const_), key, klen) == 0))
    goto done;
  if (n->min_length >= 0 && sg__utf8_length(key, klen) < (size_t)n->min_length) goto done;
  if (n->max_length >= 0 && sg__utf8_length(key, klen) > (size_t)n->max_length) goto done;
  if (n->pattern) {
    int m =
        n->pattern_simple ? sg__regex_simple_search(n->pattern_simple, key, klen) : SG__RE_UNKNOWN;
    if (m == SG__RE_UNKNOWN) m = sg__regex_search(n->pattern, key, klen);
    if (m == SG__RE_LIMIT)
      abort_eval(c, NULL, NULL, "pattern", "pattern matching exceeded its limits");
    if (m != SG__RE_MATCH) goto done;
  }
  if (n->format != SG__F_NONE && !sg__format_check(n->format, key, klen)) goto done;
  if (n->ref.node && !v_name(c, n->ref.node, key, klen, sc)) goto done;
  if (n->dynamic_ref.node && !v_name(c, dynamic_target(n, sc), key, klen, sc)) goto done;
  for (size_t i = 0; i < n->nall_of; i++)
    if (!v_name(c, n->all_of[i].node, key, klen, sc)) goto done;
  if (n->nany_of) {
    size_t i = 0;
    while (i < n->nany_of && !v_name(c, n->any_of[i].node, key, klen, sc)) i++;
    if (i == n->nany_of) goto done;
  }
  if (n->none_of) {
    size_t count = 0;
    for (size_t i = 0; i < n->none_of && count < 2; i++)
      count += (size_t)v_name(c, n->one_of[i].node, key, klen, sc);
    if (count != 1) goto done;
  }
  if (n->not_.node && v_name(c, n->not_.node, key, klen, sc)) goto done;
  if (n->if_.node) {
    const sg__edge_t *e = v_name(c, n->if_.node, key, klen, sc) ? &n->then_ : &n->else_;
    if (e->node && !v_name(c, e->node, key, klen, sc)) goto done;
  }
  ok = 1;
done:
  c->depth--;
  return ok && !c->aborted;
}

/* The object keywords with a lookup per name; for nodes without a name table. */
static int v_object_lookup(vctx_t *c, const sg__node_t *n, json_t *inst, const ipath_t *ip,
                           const kpath_t *kp, const scope_t *sc) {
  size_t size = json_object_size(inst);
  char q[48], r[48];
  if (!count_ok(c, ip, kp, size, n->min_props, n->max_props, &property_words)) return 0;
  for (size_t i = 0; i < n->nrequired; i++)
    if ((json_object_get(inst, n->required[i]) == NULL) &&
        !fail(c, ip, kp, "required", "required property \"%s\" is missing",
              clip(q, sizeof q, n->required[i], strlen(n->required[i]))))
      return 0;
  for (size_t i = 0; i < n->ndep_required; i++) {
    const sg__depreq_t *d = &n->dep_required[i];
    if (json_object_get(inst, d->name) == NULL) continue;
    for (size_t k = 0; k < d->nrequired; k++)
      if ((json_object_get(inst, d->required[k]) == NULL) &&
          !fail(c, ip, kp, n->dep_keyword, "property \"%s\" requires property \"%s\"",
                clip(q, sizeof q, d->name, strlen(d->name)),
                clip(r, sizeof r, d->required[k], strlen(d->required[k]))))
        return 0;
  }
  for (size_t i = 0; i < n->nprops; i++) {
    const sg__prop_t *p = &n->props[i];
    json_t *v = json_object_getn(inst, p->name, p->len);
    if (v == NULL) continue;
    ipath_t ipk = {ip, p->name, p->len, 0};
    if (!descend(c, &p->edge, v, &ipk, kp, sc)) return 0;
  }
  if (n->npatprops || n->additional.node || n->property_names.node) {
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(inst, key, klen, v) {
      ipath_t ipk = {ip, key, klen, 0};
      if (n->property_names.node) {
        int ok = v_name(c, n->property_names.node, key, klen, sc);
        if (!ok)
          return c->aborted
                     ? 0
                     : fail(c, ip, kp, "propertyNames", "property name \"%s\" is not allowed",
                            clip(q, sizeof q, key, klen));
      }
      int matched = find_prop(n, key, klen) != NULL;
      for (size_t i = 0; i < n->npatprops; i++) {
        int m = sg__regex_search(n->patprops[i].re, key, klen);
        if (m == SG__RE_LIMIT)
          return abort_eval(c, &ipk, kp, "patternProperties",
                            "pattern matching exceeded its limits");
        if (m == SG__RE_NOMATCH) continue;
        matched = 1;
        if (!descend(c, &n->patprops[i].edge, v, &ipk, kp, sc)) return 0;
      }
      if (!matched && n->additional.node && !descend(c, &n->additional, v, &ipk, kp, sc)) return 0;
    }
  }
  for (size_t i = 0; i < n->ndep_schemas; i++) {
    const sg__depschema_t *d = &n->dep_schemas[i];
    if (json_object_get(inst, d->name) && !descend(c, &d->edge, inst, ip, kp, sc)) return 0;
  }
  return 1;
}

/* propertyNames, patternProperties and additionalProperties on one member; declared says
   whether properties names it. */
static int v_member_rest(vctx_t *c, const sg__node_t *n, const char *key, size_t klen, json_t *v,
                         int declared, const ipath_t *ip, const kpath_t *kp, const scope_t *sc) {
  char q[48];
  ipath_t ipk = {ip, key, klen, 0};
  if (n->property_names.node) {
    int ok = v_name(c, n->property_names.node, key, klen, sc);
    if (!ok)
      return c->aborted ? 0
                        : fail(c, ip, kp, "propertyNames", "property name \"%s\" is not allowed",
                               clip(q, sizeof q, key, klen));
  }
  int matched = declared;
  for (size_t i = 0; i < n->npatprops; i++) {
    int m = sg__regex_search(n->patprops[i].re, key, klen);
    if (m == SG__RE_LIMIT)
      return abort_eval(c, &ipk, kp, "patternProperties", "pattern matching exceeded its limits");
    if (m == SG__RE_NOMATCH) continue;
    matched = 1;
    if (!descend(c, &n->patprops[i].edge, v, &ipk, kp, sc)) return 0;
  }
  if (!matched && n->additional.node && !descend(c, &n->additional, v, &ipk, kp, sc)) return 0;
  return 1;
}

/* object_names_seen over a view whose plan covers n (map: see sg__plan_t): the view
   looked every member up in the plan's table, so only the bits are gathered. */
static __attribute__((noinline)) size_t plan_names_seen(const sg__node_t *n, const view_t *view,
                                                        const unsigned char *map, json_t **vals,
                                                        uint64_t *seen_out, size_t *declared_out) {
  uint64_t seen = 0;
  size_t declared = 0;
  for (size_t i = 0; i < n->names.n; i++) {
    unsigned id = map[i];
    if (!((view->seen >> id) & 1)) continue;
    seen |= (uint64_t)1 << i;
    if (i < n->nprops) {
      vals[i] = view->vals[id];
      declared++;
    }
  }
  *seen_out = seen;
  *declared_out = declared;
  return view->n;
}

/* Which of n's names the object has (a bit per name id, see sg__names_t) and where the
   values of declared properties are (vals, by property index); sets *declared to how many
   members properties names and returns the number of members. Reads the object's view
   when it has one, else the object itself. */
static inline __attribute__((always_inline)) size_t object_names_seen(
    const sg__node_t *n, json_t *inst, const view_t *view, json_t **vals, uint64_t *seen_out,
    size_t *declared_out) {
  uint64_t seen = 0;
  size_t declared = 0, size;
  const unsigned char *map = view && view->plan ? plan_map(view, n) : NULL;
  if (map) {
    size = plan_names_seen(n, view, map, vals, &seen, &declared);
  } else if (view && (view->index ? n->names.n <= 2 * view->n : n->names.n * view->n <= 32)) {
    size = view->n;
    for (size_t i = 0; i < n->names.n; i++) {
      const sg__str_t *w = &n->names.list[i];
      const member_t *m = view->index ? view_get(view, w->s, w->len, w->head, n->names.hashes[i])
                                      : view_scan(view, w->s, w->len, w->head);
      if (m == NULL) continue;
      seen |= (uint64_t)1 << i;
      if (i < n->nprops) {
        vals[i] = m->val;
        declared++;
      }
    }
  } else if (view) {
    size = view->n;
    for (size_t i = 0; i < view->n; i++) {
      const member_t *m = &view->m[i];
      const sg__slot_t *e = sg__names_get(&n->names, m->key, m->len, m->head, m->hash);
      if (e == NULL) continue;
      seen |= (uint64_t)1 << e->id;
      if (e->id < n->nprops) {
        vals[e->id] = m->val;
        declared++;
      }
    }
  } else if ((size = json_object_size(inst)) * 2 > n->names.n * 5) {
    /* Many more members than names: a lookup per name costs less than a pass. */
    for (size_t i = 0; i < n->names.n; i++) {
      json_t *v = json_object_getn(inst, n->names.list[i].s, n->names.list[i].len);
      if (v == NULL) continue;
      seen |= (uint64_t)1 << i;
      if (i < n->nprops) {
        vals[i] = v;
        declared++;
      }
    }
  } else {
    for (void *it = json_object_iter(inst); it; it = json_object_iter_next(inst, it)) {
      const sg__slot_t *e =
          sg__names_find(&n->names, json_object_iter_key(it), json_object_iter_key_len(it));
      if (e == NULL) continue;
      seen |= (uint64_t)1 << e->id;
      if (e->id < n->nprops) {
        vals[e->id] = json_object_iter_value(it);
        declared++;
      }
    }
  }
  *seen_out = seen;
  *declared_out = declared;
  return size;
}

/* The first required name missing from seen. */
static __attribute__((noinline, cold)) int required_fail(vctx_t *c, const sg__node_t *n,
                                                         uint64_t seen, const ipath_t *ip,
                                                         const kpath_t *kp) {
  char q[48];
  int ok = 0; /* in the every-error mode, each missing name is reported */
  for (size_t i = 0; i < n->nrequired; i++)
    if (!((seen >> n->required_ids[i]) & 1) &&
        !(ok = fail(c, ip, kp, "required", "required property \"%s\" is missing",
                    clip(q, sizeof q, n->required[i], strlen(n->required[i])))))
      return 0;
  return ok;
}

/* properties, in the order of their names, over the values object_names_seen found. */
static inline __attribute__((always_inline)) int object_properties(vctx_t *c, const sg__node_t *n,
                                                                   uint64_t seen, json_t **vals,
                                                                   const ipath_t *ip,
                                                                   const kpath_t *kp,
                                                                   const scope_t *sc) {
  int ok = 1;
  c->nvals += n->nprops;
  uint64_t present = n->nprops == 64 ? seen : seen & (((uint64_t)1 << n->nprops) - 1);
  while (ok && present) {
    unsigned i = (unsigned)__builtin_ctzll(present);
    present &= present - 1;
    const sg__prop_t *p = &n->props[i];
    const sg__node_t *t = p->edge.node;
    /* A leaf that holds needs no locations: they are built for the others. */
    if (sg__is_leaf(t) && c->depth < SG__MAX_DEPTH && leaf_check(t, vals[i]) == 1) continue;
    ipath_t ipk = {ip, p->name, p->len, 0};
    ok = descend_fast(c, &p->edge, vals[i], &ipk, kp, sc);
  }
  c->nvals -= n->nprops;
  return ok;
}

/* propertyNames, patternProperties and additionalProperties, member by member. */
static __attribute__((noinline)) int object_rest(vctx_t *c, const sg__node_t *n, json_t *inst,
                                                 const view_t *view, const ipath_t *ip,
                                                 const kpath_t *kp, const scope_t *sc) {
  if (view) {
    for (size_t i = 0; i < view->n; i++) {
      const member_t *m = &view->m[i];
      const sg__slot_t *e = sg__names_get(&n->names, m->key, m->len, m->head, m->hash);
      if (!v_member_rest(c, n, m->key, m->len, m->val, e && e->id < n->nprops, ip, kp, sc))
        return 0;
    }
    return 1;
  }
  const char *key;
  size_t klen;
  json_t *v;
  json_object_keylen_foreach(inst, key, klen, v) {
    const sg__slot_t *e = sg__names_find(&n->names, key, klen);
    if (!v_member_rest(c, n, key, klen, v, e && e->id < n->nprops, ip, kp, sc)) return 0;
  }
  return 1;
}

/* The object keywords in one pass over the members: each is looked up in the node's name
   table, which says which names the object has and where the values of declared
   properties are. The keywords are then checked in the same order as with lookups
   (required, dependentRequired, properties in the order of their names, the other
   members in the object's order, dependentSchemas), so the first error is the same. */
static int v_object(vctx_t *c, const sg__node_t *n, json_t *inst, const ipath_t *ip,
                    const kpath_t *kp, const scope_t *sc) {
  if (n->names.slots == NULL || c->nvals + n->nprops > sizeof c->vals / sizeof c->vals[0])
    return v_object_lookup(c, n, inst, ip, kp, sc);
  const view_t *view = c->view && c->view->obj == inst ? c->view : NULL;
  size_t size = view ? view->n : json_object_size(inst);
  char q[48], r[48];
  if (!count_ok(c, ip, kp, size, n->min_props, n->max_props, &property_words)) return 0;
  json_t **vals = c->vals + c->nvals;
  uint64_t seen;
  size_t declared;
  object_names_seen(n, inst, view, vals, &seen, &declared);
  if (((seen & n->required_mask) != n->required_mask) && !required_fail(c, n, seen, ip, kp))
    return 0;
  for (size_t i = 0; i < n->ndep_required; i++) {
    const sg__depreq_t *d = &n->dep_required[i];
    if (!((seen >> d->id) & 1)) continue;
    for (size_t k = 0; k < d->nrequired; k++)
      if ((!((seen >> d->required_ids[k]) & 1)) &&
          !fail(c, ip, kp, n->dep_keyword, "property \"%s\" requires property \"%s\"",
                clip(q, sizeof q, d->name, strlen(d->name)),
                clip(r, sizeof r, d->required[k], strlen(d->required[k]))))
        return 0;
  }
  if (declared && !object_properties(c, n, seen, vals, ip, kp, sc)) return 0;
  if ((n->npatprops || n->property_names.node || (n->additional.node && declared < size)) &&
      !object_rest(c, n, inst, view, ip, kp, sc))
    return 0;
  for (size_t i = 0; i < n->ndep_schemas; i++) {
    const sg__depschema_t *d = &n->dep_schemas[i];
    if (((seen >> d->id) & 1) && !descend(c, &d->edge, inst, ip, kp, sc)) return 0;
  }
  return 1;
}

/* An SG__K_PLAIN_OBJECT node of at most four names, over an object without a view, in
   one pass over the members: each name is compared with the few names (which costs less
   than hashing it), and the properties whose schemas are leaves are checked as their
   members come, as are the members that properties does not declare against a leaf
   additionalProperties. What remains is then done in v_plain's order, so that the first
   error is the same: required; the properties that are not leaves, or whose check failed
   or needs PCRE2 (entered again, which reports), in the order of their names;
   additionalProperties over the members, when a member failed a leaf one or it is not a
   leaf. Leaf checks read no state, so checking one twice changes nothing. Patterns that
   need PCRE2 wait for the ordered loop, which on an invalid object may not need them; the
   simple ones (SG__LEAF_STRING) cost less than a second visit to their member. */
static inline __attribute__((always_inline)) int plain_object_pass(vctx_t *c, const sg__node_t *n,
                                                                   json_t *inst, const ipath_t *ip,
                                                                   const kpath_t *kp,
                                                                   const scope_t *sc) {
  json_t **vals = c->vals + c->nvals;
  uint64_t seen = 0, deep = 0;
  const sg__node_t *add = n->additional.node;
  int rest = 0;
  void *it;
  if (c->lead_node == n && c->lead_obj == inst) {
    /* The first member is P, whose schema here is {} (see lead_node). */
    seen = (uint64_t)1 << c->lead_at;
    it = json_object_iter_next(inst, c->lead_it);
    c->lead_node = NULL;
  } else {
    it = json_object_iter(inst);
  }
  for (; it; it = json_object_iter_next(inst, it)) {
    const char *key = json_object_iter_key(it);
    size_t len = json_object_iter_key_len(it), id = 0;
    uint64_t head = sg__head(key, len);
    while (id < n->names.n) {
      const sg__str_t *w = &n->names.list[id];
      if (w->len == len && w->head == head && sg__rest_eq(w->s, key, len)) break;
      id++;
    }
    json_t *v = json_object_iter_value(it);
    /* id is at most 4 here: the bit of a name not found is cleared after the loop. */
    seen |= (uint64_t)1 << id;
    if (id < n->nprops) {
      const sg__node_t *t = n->props[id].edge.node;
      if (sg__is_leaf(t) && (t->pattern == NULL || t->leaf == SG__LEAF_STRING) &&
          leaf_check(t, v) == 1)
        continue;
      if ((t->kw & SG__K_ALT_LEAVES) && alt_leaves_hold(c, t, v)) continue;
      vals[id] = v;
      deep |= (uint64_t)1 << id;
    } else if (add && (!sg__is_leaf(add) || leaf_check(add, v) != 1)) {
      rest = 1;
    }
  }
  seen &= ((uint64_t)1 << n->names.n) - 1;
  if (((seen & n->required_mask) != n->required_mask) && !required_fail(c, n, seen, ip, kp))
    return 0;
  int ok = 1;
  if (deep) {
    c->nvals += n->nprops;
    while (ok && deep) {
      unsigned k = (unsigned)__builtin_ctzll(deep);
      deep &= deep - 1;
      const sg__prop_t *p = &n->props[k];
      const sg__node_t *t = p->edge.node;
      if (sg__is_leaf(t) && leaf_check(t, vals[k]) == 1) continue;
      ipath_t ipk = {ip, p->name, p->len, 0};
      ok = descend_fast(c, &p->edge, vals[k], &ipk, kp, sc);
    }
    c->nvals -= n->nprops;
  }
  if (ok && rest) ok = object_rest(c, n, inst, NULL, ip, kp, sc);
  return ok;
}

/* A node that descends only through array or object keywords (SG__K_PLAIN): those
   keywords without the generic path, and for the simplest object schemas
   (SG__K_PLAIN_OBJECT) only v_object's checks that apply. */
static __attribute__((noinline)) int v_plain(vctx_t *c, const sg__node_t *n, json_t *inst,
                                             const ipath_t *ip, const kpath_t *kp,
                                             const scope_t *sc) {
  if (json_is_array(inst)) return (n->kw & SG__K_ARRAY) ? v_array(c, n, inst, ip, kp, sc) : 1;
  if (!json_is_object(inst) || !(n->kw & SG__K_OBJECT)) return 1;
  if (!(n->kw & SG__K_PLAIN_OBJECT)) return v_object(c, n, inst, ip, kp, sc);
  if (c->nvals + n->nprops > sizeof c->vals / sizeof c->vals[0])
    return v_object_lookup(c, n, inst, ip, kp, sc);
  const view_t *view = c->view && c->view->obj == inst ? c->view : NULL;
  if (view == NULL && n->names.n <= 4 && c->depth < SG__MAX_DEPTH)
    return plain_object_pass(c, n, inst, ip, kp, sc);
  json_t **vals = c->vals + c->nvals;
  uint64_t seen;
  size_t declared, size = object_names_seen(n, inst, view, vals, &seen, &declared);
  if (((seen & n->required_mask) != n->required_mask) && !required_fail(c, n, seen, ip, kp))
    return 0;
  if (declared && !object_properties(c, n, seen, vals, ip, kp, sc)) return 0;
  if (n->additional.node && declared < size && !object_rest(c, n, inst, view, ip, kp, sc)) return 0;
  return 1;
}

/* How far an alternative got before failing: errors deeper inside the value score
   higher, and at the same depth an error on anything but const or enum scores higher
   (a const or enum mismatch is usually a discriminator saying "not this one"). */
static size_t error_score(const ipath_t *ip, const char *kw) {
  /* d is the number of "/" in the instance location: one per step, unless the location
     is cut to fit, and then the cut one is counted. */
  size_t d = 0, len = 0; /* len: at least as long as the location */
  for (const ipath_t *p = ip; p; p = p->up) {
    d++;
    len += 1 + (p->key ? 2 * p->keylen : 20);
  }
  if (len >= sizeof((sg_schema_error_t *)0)->instance_location) {
    char loc[sizeof((sg_schema_error_t *)0)->instance_location] = "";
    put_ipath(loc, sizeof loc, ip);
    d = 0;
    for (const char *p = loc; *p; p++) d += *p == '/';
  }
  int weak = kw && ((kw[0] == 'c' && strcmp(kw, "const") == 0) ||
                    (kw[0] == 'e' && strcmp(kw, "enum") == 0));
  return d * 2 + (weak ? 0 : 1);
}

/* The score (error_score) of the error out holds: its instance location has a "/" per
   step, as error_score counts them; locate kept the number of steps, which is that
   count unless the location was cut, and its length. */
static size_t written_score(const vctx_t *c) {
  const sg_schema_error_t *e = c->out;
  size_t d = c->err_steps;
  if (c->err_ilen + 1 >= sizeof e->instance_location) {
    d = 0;
    for (const char *p = e->instance_location; *p; p++) d += *p == '/';
  }
  const char *kw = e->keyword;
  int weak =
      (kw[0] == 'c' && strcmp(kw, "const") == 0) || (kw[0] == 'e' && strcmp(kw, "enum") == 0);
  return d * 2 + (weak ? 0 : 1);
}

/* Forgets an error written for an alternative that is not the one reported: nothing had
   been written before (c->filled was clear). */
static void unwrite(vctx_t *c) {
  if (!c->scoring) {
    c->out->instance_location[0] = c->out->keyword_location[0] = '\0';
    c->out->keyword[0] = c->out->message[0] = '\0';
  }
  c->filled = 0;
}

/* When no alternative of anyOf/oneOf matches, the most useful error is usually that of
   the alternative the value was evidently meant for: the only one whose "type" admits it,
   else the one that got furthest (error_score), when no other got as far. Reports that
   error and returns 1, or returns 0 when no alternative stands out. Runs only when an
   error is being reported, so its cost is on the failure path alone.

   The alternative likeliest to stand out (the first the switch left, if any) is
   evaluated first as if it were the one reported, which it usually is, so that it need
   not be evaluated again; the others are only scored. ran, when below n, is an
   alternative v_alternatives has already evaluated so (see v_alternatives). An alternative the
   switch ruled out, whose error cannot score higher than sw->bound says, is not evaluated at all
   when that is below the first one's score: it could be neither the best nor a tie. */
static __attribute__((noinline)) int best_alternative(vctx_t *c, const sg__edge_t *alts, size_t n,
                                                      json_t *inst, const ipath_t *ip,
                                                      const kpath_t *kp, const scope_t *sc,
                                                      const sg__switch_t *sw, uint64_t cand,
                                                      size_t ran) {
  /* Each level holds an error on the stack; deep down, the plain message will do. */
  if (ran == n && (c->out == NULL || c->quiet || c->filled || c->depth > 64)) return 0;
  if (c->sink) {
    /* Every error is wanted: the alternatives are weighed as when only the first is, since
       the errors of those not chosen are taken back, and the caller passes on the one
       chosen (sunk). */
    sg_schema_error_fn sink = c->sink;
    c->sink = NULL;
    int r = best_alternative(c, alts, n, inst, ip, kp, sc, sw, cand, ran);
    c->sink = sink;
    return r;
  }
  size_t typed = 0, typed_at = 0;
  unsigned bits = type_bits(inst);
  /* Only whether one alone admits inst counts: the count stops at two. */
  for (size_t i = 0; i < n && typed < 2; i++) {
    const sg__node_t *a = alts[i].node;
    if (a->boolean < 0 && a->types && (a->types & bits)) {
      typed++;
      typed_at = i;
    }
  }
  if (typed == 1) {
    if (ran == typed_at) return c->filled;
    if (ran < n) unwrite(c);
    descend(c, &alts[typed_at], inst, ip, kp, sc);
    return c->filled;
  }
  uint64_t all = n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
  size_t first = ran < n ? ran : (cand & all) ? (size_t)__builtin_ctzll(cand & all) : 0;
  int scoring = c->scoring;
  if (ran == n) descend(c, &alts[first], inst, ip, kp, sc);
  size_t first_score = !c->filled ? 0 : scoring ? c->score + 1 : written_score(c) + 1;
  size_t d = 0; /* steps to inst: an error at inst scores 2 * d or more */
  for (const ipath_t *p = ip; p; p = p->up) d++;
  size_t best_score = 0, best_at = 0, ties = 0;
  c->scoring = 1;
  for (size_t i = 0; i < n; i++) {
    size_t score;
    if (i == first) {
      score = first_score;
    } else if (sw && i < 64 && !((cand >> i) & 1) && sw->bound[i] &&
               2 * d + sw->bound[i] + 1 < first_score) {
      continue;
    } else {
      c->filled = 0;
      descend(c, &alts[i], inst, ip, kp, sc);
      score = c->filled ? c->score + 1 : 0;
    }
    if (score > best_score) {
      best_score = score;
      best_at = i;
      ties = 0;
    } else if (score == best_score) {
      ties++;
    }
  }
  c->scoring = scoring;
  if (best_score == 0 || ties) {
    unwrite(c);
    return 0;
  }
  if (best_at == first) {
    c->score = first_score - 1;
    c->filled = 1;
    return 1;
  }
  unwrite(c);
  descend(c, &alts[best_at], inst, ip, kp, sc);
  return c->filled;
}

/* Whether the error that alternative ran, entered as the only candidate the switch left
   (see entered_alternative), wrote is the one best_alternative would report, found without
   weighing the others: every alternative admits objects, so that none is the only one
   typed so, and each that the switch ruled out fails with an error that scores below it
   (sg__switch_t.rivals). */
static inline int switch_settles(vctx_t *c, const sg__switch_t *sw, size_t ran, const ipath_t *ip) {
  if (sw == NULL || !sw->objects || !sw->rivals[ran] || !c->filled || c->sink) return 0;
  size_t score = c->scoring ? c->score : written_score(c), d = 0;
  for (const ipath_t *p = ip; p; p = p->up) d++;
  if (2 * d + sw->rivals[ran] >= score) return 0;
  c->score = score;
  return 1;
}

/* The instance member a switch looks at (NULL when absent); *first is set to its
   iterator when it was read as the object's first member. */
static json_t *switch_member(const vctx_t *c, const sg__switch_t *sw, json_t *inst, void **first) {
  const view_t *v = c->view;
  if (v && v->obj == inst && v->index) {
    const member_t *m = view_get(v, sw->name.s, sw->name.len, sw->head, sw->hash);
    return m ? m->val : NULL;
  }
  if (v && v->obj == inst) {
    for (size_t i = 0; i < v->n; i++) {
      const member_t *m = &v->m[i];
      if (m->hash == sw->hash && m->len == sw->name.len && m->head == sw->head &&
          sg__rest_eq(m->key, sw->name.s, m->len))
        return m->val;
    }
    return NULL;
  }
  /* The first members are read one by one, which costs less than hashing the name; past
     eight, the name is looked up. */
  size_t i = 0;
  for (void *it = json_object_iter(inst); it; it = json_object_iter_next(inst, it), i++) {
    if (i == 8) return json_object_getn(inst, sw->name.s, sw->name.len);
    const char *k = json_object_iter_key(it);
    size_t len = json_object_iter_key_len(it);
    if (len == sw->name.len && sg__head(k, len) == sw->head && sg__rest_eq(k, sw->name.s, len)) {
      if (i == 0) *first = it;
      return json_object_iter_value(it);
    }
  }
  return NULL;
}

/* The string the switch compares with the alternatives' tags; s NULL when the member is
   absent or not a string. */
static sg__str_t switch_value(const vctx_t *c, const sg__switch_t *sw, json_t *inst, void **first) {
  sg__str_t t = {NULL, 0, 0};
  json_t *v = switch_member(c, sw, inst, first);
  if (v && json_is_string(v)) {
    t.s = json_string_value(v);
    t.len = json_string_length(v);
    t.head = sg__head(t.s, t.len);
  }
  return t;
}

/* The alternatives of n alternatives worth probing: all of them, but for those the switch
   shows to fail (see sg__switch_t). Skipping those leaves the outcome as it was: the
   checks they would run before failing cannot hit a limit, and the depth kept in hand
   means that nothing skipped comes near the depth limit either. *first is set as
   switch_member sets it. */
static uint64_t candidates(const vctx_t *c, const sg__switch_t *sw, size_t n, json_t *inst,
                           void **first) {
  if (sw == NULL || c->legacy || c->depth >= sw->depth_below || !json_is_object(inst))
    return n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
  uint64_t cand = sw->always;
  sg__str_t v = switch_value(c, sw, inst, first);
  if (v.s)
    for (size_t k = 0; k < sw->ntags; k++) {
      const sg__str_t *t = &sw->tags[k];
      if (t->len == v.len && t->head == v.head && sg__rest_eq(t->s, v.s, v.len))
        return cand | sw->cand[k];
    }
  return cand;
}

/* The next alternative of n to probe: the candidates among the first 64 in order, taken
   from *untried, then every one from *rest on. n when there is none left. */
static inline size_t next_alternative(uint64_t *untried, size_t *rest, size_t n) {
  if (*untried) {
    size_t i = (size_t)__builtin_ctzll(*untried);
    *untried &= *untried - 1;
    return i;
  }
  return *rest < n ? (*rest)++ : n;
}

/* Which alternative of n to enter, rather than probe, where its failure would be
   reported: the only candidate left (cand has one bit), which then either holds or is
   the first one best_alternative weighs, its error already written as best_alternative
   would write it. n when the alternatives are to be probed. A passing evaluation writes
   nothing, since whatever fails inside it fails in a probe. */
static inline size_t entered_alternative(const vctx_t *c, uint64_t cand, size_t n) {
  if (n > 64 || !cand || (cand & (cand - 1)) || !reporting(c) || c->depth > 64) return n;
  return (size_t)__builtin_ctzll(cand);
}

/* The edge by which to enter alternative ran of alts, which entered_alternative chose:
   the switch's copy that leaves out the constant it matched (sg__switch_t.matched), when
   there is one and the object has no view that the copy would not be in the plan of. */
static inline const sg__edge_t *entered_edge(const vctx_t *c, const sg__switch_t *sw,
                                             const sg__edge_t *alts, size_t ran, json_t *inst) {
  if (sw && !((sw->always >> ran) & 1) && sw->matched[ran].node &&
      !(c->view && c->view->obj == inst))
    return &sw->matched[ran];
  return &alts[ran];
}

/* Before entering e, the edge entered_edge chose for alternative ran: when e is the
   switch's copy and the switch read P as the object's first member (first), lets the copy
   start after it (vctx_t.lead_node). */
static inline void lead(vctx_t *c, const sg__switch_t *sw, const sg__edge_t *e, size_t ran,
                        json_t *inst, void *first) {
  if (first && e == &sw->matched[ran]) {
    c->lead_obj = inst;
    c->lead_it = first;
    c->lead_node = e->node;
    c->lead_at = sw->matched_at[ran];
  }
}

/* anyOf and oneOf. */
static inline __attribute__((always_inline)) int v_alternatives(vctx_t *c, const sg__node_t *n,
                                                                json_t *inst, const ipath_t *ip,
                                                                const kpath_t *kp,
                                                                const scope_t *sc) {
  if (n->nany_of) {
    void *lead_it = NULL;
    uint64_t cand = candidates(c, n->any_switch, n->nany_of, inst, &lead_it), untried = cand;
    size_t i, rest = 64, ran = entered_alternative(c, cand, n->nany_of);
    if (ran < n->nany_of) {
      const sg__edge_t *e = entered_edge(c, n->any_switch, n->any_of, ran, inst);
      lead(c, n->any_switch, e, ran, inst, lead_it);
      i = descend_fast(c, e, inst, ip, kp, sc) && !c->aborted ? ran : n->nany_of;
      c->lead_node = NULL;
    } else {
      while ((i = next_alternative(&untried, &rest, n->nany_of)) < n->nany_of)
        if (probe_fast(c, &n->any_of[i], inst, ip, kp, sc)) break;
    }
    if (c->aborted) return 0;
    if (i == n->nany_of) {
      if ((ran < n->nany_of && switch_settles(c, n->any_switch, ran, ip)) ||
          best_alternative(c, n->any_of, n->nany_of, inst, ip, kp, sc, n->any_switch, cand, ran))
        return sunk(c);
      return fail(c, ip, kp, "anyOf", "value matches none of the %zu alternatives", n->nany_of);
    }
  }
  if (n->none_of) {
    void *lead_it = NULL;
    uint64_t cand = candidates(c, n->one_switch, n->none_of, inst, &lead_it), untried = cand;
    size_t first = 0, count = 0, i, rest = 64, ran = entered_alternative(c, cand, n->none_of);
    if (ran < n->none_of) {
      /* The other alternatives fail: entering this one settles it. */
      const sg__edge_t *e = entered_edge(c, n->one_switch, n->one_of, ran, inst);
      lead(c, n->one_switch, e, ran, inst, lead_it);
      int held = descend_fast(c, e, inst, ip, kp, sc) && !c->aborted;
      c->lead_node = NULL;
      if (held) return 1;
      untried = 0;
      rest = n->none_of;
    }
    while (count < 2 && (i = next_alternative(&untried, &rest, n->none_of)) < n->none_of) {
      if (!probe_fast(c, &n->one_of[i], inst, ip, kp, sc)) continue;
      if (count == 0) {
        first = i;
      } else {
        if (c->aborted) return 0;
        return fail(c, ip, kp, "oneOf", "value matches more than one alternative (%zu and %zu)",
                    first, i);
      }
      count++;
    }
    if (c->aborted) return 0;
    if (count == 0) {
      if ((ran < n->none_of && switch_settles(c, n->one_switch, ran, ip)) ||
          best_alternative(c, n->one_of, n->none_of, inst, ip, kp, sc, n->one_switch, cand, ran))
        return sunk(c);
      return fail(c, ip, kp, "oneOf", "value matches none of the %zu alternatives", n->none_of);
    }
  }
  return 1;
}

/* anyOf and oneOf, out of line: for a node whose only keywords past v_leaf's are these
   (SG__K_ALT_ONLY), what v_slow would do for it, without its other cases. */
static __attribute__((noinline)) int v_alt_only(vctx_t *c, const sg__node_t *n, json_t *inst,
                                                const ipath_t *ip, const kpath_t *kp,
                                                const scope_t *sc) {
  return v_alternatives(c, n, inst, ip, kp, sc);
}

/* Whether n, an SG__K_FLAT subschema applied in place to inst, holds, as the values the
   view's plan gathered show, without entering it; 0 also when that cannot be told so
   (no plan covers n, limits near, a pattern needs PCRE2). A caller that gets 0 enters n,
   which then reports its failure as ever: the leaf checks read no state, so checking one
   again changes nothing. */
static inline __attribute__((always_inline)) int flat_holds(vctx_t *c, const sg__node_t *n,
                                                            json_t *inst) {
  const view_t *v = c->view;
  if (!(n->kw & SG__K_FLAT) || v == NULL || v->plan == NULL || v->obj != inst || c->halt ||
      c->depth + 2 >= SG__MAX_DEPTH)
    return 0;
  const unsigned char *map = plan_map(v, n);
  if (map == NULL || (n->leaf == SG__LEAF_TYPE && !type_ok(n->types, inst))) return 0;
  uint64_t seen = 0;
  for (size_t i = 0; i < n->names.n; i++) seen |= ((v->seen >> map[i]) & 1) << i;
  if ((seen & n->required_mask) != n->required_mask) return 0;
  uint64_t present = n->nprops == 64 ? seen : seen & (((uint64_t)1 << n->nprops) - 1);
  while (present) {
    unsigned i = (unsigned)__builtin_ctzll(present);
    present &= present - 1;
    if (leaf_check(n->props[i].edge.node, v->vals[map[i]]) != 1) return 0;
  }
  reached_below(c); /* as entering n would */
  return 1;
}

/* Sets *if_ok to the outcome of "if", when there is one. */
static __attribute__((noinline)) int v_applicators(vctx_t *c, const sg__node_t *n, json_t *inst,
                                                   const ipath_t *ip, const kpath_t *kp,
                                                   const scope_t *sc, int *if_ok) {
  if (n->ref.node && !descend_fast(c, &n->ref, inst, ip, kp, sc)) return 0;
  if (n->dynamic_ref.node) {
    sg__edge_t e = {n->dynamic_ref.path, dynamic_target(n, sc)};
    if (!descend(c, &e, inst, ip, kp, sc)) return 0;
  }
  for (size_t i = 0; i < n->nall_of; i++)
    if (!flat_holds(c, n->all_of[i].node, inst) &&
        !descend_fast(c, &n->all_of[i], inst, ip, kp, sc))
      return 0;
  if ((n->nany_of || n->none_of) && !v_alt_only(c, n, inst, ip, kp, sc)) return 0;
  if (n->not_.node) {
    int ok = probe_edge(c, &n->not_, inst, ip, kp, sc);
    if (c->aborted) return 0;
    if ((ok) && !fail(c, ip, kp, "not", "value matches the schema under \"not\"")) return 0;
  }
  if (n->if_.node) {
    int ok = flat_holds(c, n->if_.node, inst) || probe_fast(c, &n->if_, inst, ip, kp, sc);
    if (c->aborted) return 0;
    *if_ok = ok;
    const sg__edge_t *e = ok ? &n->then_ : &n->else_;
    if (e->node && !flat_holds(c, e->node, inst) && !descend_fast(c, e, inst, ip, kp, sc)) return 0;
  }
  return 1;
}

/* Sets up marks for n members or items: on the stack when they are few, else on the heap
   (the one other allocation validation may make). */
static int marks_init(marks_t *m, uint64_t *stack, size_t n) {
  size_t words = (n + 63) / 64;
  m->n = n;
  m->bits = n <= MARKS_ON_STACK ? stack : calloc(words, sizeof *m->bits);
  if (m->bits == NULL) return -1;
  if (m->bits == stack) memset(stack, 0, words * sizeof *stack);
  return 0;
}

static void marks_free(marks_t *m, uint64_t *stack) {
  if (m->bits != stack) free(m->bits);
}

/* descend into unevaluatedProperties for one member. The usual "false" fails at once, as
   v_node would have it fail, without entering it. */
static inline int descend_unevaluated(vctx_t *c, const sg__node_t *n, json_t *v, const ipath_t *ip,
                                      const kpath_t *kp, const scope_t *sc) {
  const sg__edge_t *e = &n->unevaluated_props;
  if (e->node->boolean != 0 || c->dynamic || c->aborted || c->depth >= SG__MAX_DEPTH)
    return descend(c, e, v, ip, kp, sc);
  reached_below(c);
  kpath_t k = {kp, e->path};
  return v_false(c, ip, &k) && !c->aborted;
}

/* unevaluatedProperties when the schema says which names are evaluated (see prepare.c):
   the members are checked in the same order as by v_unevaluated. */
static int v_unevaluated_known(vctx_t *c, const sg__node_t *n, json_t *inst, const ipath_t *ip,
                               const kpath_t *kp, const scope_t *sc, int if_ok) {
  unsigned groups = SG__EV_ALWAYS;
  if (n->if_.node) groups |= if_ok ? SG__EV_IF : SG__EV_ELSE;
  c->used_evaluated = 1;
  const view_t *view = c->view && c->view->obj == inst ? c->view : NULL;
  if (view && view->plan == n->plan && n->plan && n->plan->evaluated) {
    /* Every member has a name the table knows, evaluated whatever "if" said, or as it said. */
    const sg__plan_t *p = n->plan;
    uint64_t evaluated = p->evaluated_mask[0];
    if (n->if_.node) evaluated |= p->evaluated_mask[if_ok ? 1 : 2];
    if (view->unknown == 0 && !(view->seen & ~evaluated)) return !c->aborted;
    const unsigned char *ev = p->evaluated;
    for (size_t i = 0; i < view->n && !c->aborted; i++) {
      const member_t *m = &view->m[i];
      if (m->id != SG__PLAN_NONE && (ev[m->id] & groups)) continue;
      ipath_t ipk = {ip, m->key, m->len, 0};
      if (!descend_unevaluated(c, n, m->val, &ipk, kp, sc)) return 0;
    }
    return !c->aborted;
  }
  if (view) {
    for (size_t i = 0; i < view->n && !c->aborted; i++) {
      const member_t *m = &view->m[i];
      const sg__slot_t *e = sg__names_get(&n->evaluated, m->key, m->len, m->head, m->hash);
      if (e && (e->id & groups)) continue;
      ipath_t ipk = {ip, m->key, m->len, 0};
      if (!descend_unevaluated(c, n, m->val, &ipk, kp, sc)) return 0;
    }
    return !c->aborted;
  }
  const char *key;
  size_t klen;
  json_t *v;
  json_object_keylen_foreach(inst, key, klen, v) {
    if (c->aborted) break;
    const sg__slot_t *e = sg__names_find(&n->evaluated, key, klen);
    if (e && (e->id & groups)) continue;
    ipath_t ipk = {ip, key, klen, 0};
    if (!descend_unevaluated(c, n, v, &ipk, kp, sc)) return 0;
  }
  return !c->aborted;
}

static int v_unevaluated(vctx_t *c, const sg__node_t *n, json_t *inst, const ipath_t *ip,
                         const kpath_t *kp, const scope_t *sc) {
  uint64_t stack[MARKS_ON_STACK / 64];
  marks_t m;
  int ok = 1;
  if (n->unevaluated_props.node && json_is_object(inst)) {
    if (marks_init(&m, stack, json_object_size(inst)))
      return abort_eval(c, ip, kp, "unevaluatedProperties", "out of memory");
    mark_props(c, n, inst, &m, sc, 1);
    const char *key;
    size_t klen, i = 0;
    json_t *v;
    json_object_keylen_foreach(inst, key, klen, v) {
      if (c->aborted) break;
      if (!marked(&m, i++)) {
        ipath_t ipk = {ip, key, klen, 0};
        if (!(ok = descend(c, &n->unevaluated_props, v, &ipk, kp, sc))) break;
      }
    }
    marks_free(&m, stack);
    if (!ok) return 0;
  }
  if (n->unevaluated_items.node && json_is_array(inst)) {
    if (marks_init(&m, stack, json_array_size(inst)))
      return abort_eval(c, ip, kp, "unevaluatedItems", "out of memory");
    mark_items(c, n, inst, &m, sc, 1);
    for (size_t i = 0; i < m.n && !c->aborted; i++) {
      if (marked(&m, i)) continue;
      ipath_t p = {ip, NULL, 0, i};
      if (!(ok = descend(c, &n->unevaluated_items, json_array_get(inst, i), &p, kp, sc))) break;
    }
    marks_free(&m, stack);
    if (!ok) return 0;
  }
  return !c->aborted;
}

/* Checks n over inst: the keywords for inst's type, then the applicators. */
static inline __attribute__((always_inline)) int v_body(vctx_t *c, const sg__node_t *n,
                                                        json_t *inst, const ipath_t *ip,
                                                        const kpath_t *kp, const scope_t *sc) {
  unsigned kw = n->kw;
  if (kw & SG__K_REF_ONLY) return descend(c, &n->ref, inst, ip, kp, sc);
  if (!own_ok(n, inst, c, ip, kp)) return 0;
  if (kw & SG__K_NOT_LEAF) return v_rest(c, n, inst, ip, kp, sc);
  return 1;
}

static inline __attribute__((always_inline)) int v_slow_in(vctx_t *c, const sg__node_t *n,
                                                           json_t *inst, const ipath_t *ip,
                                                           const kpath_t *kp, const scope_t *sc) {
  unsigned kw = n->kw;
  int if_ok = 0;
  if (json_is_array(inst) && (kw & SG__K_ARRAY) && !v_array(c, n, inst, ip, kp, sc)) return 0;
  if (json_is_object(inst) && (kw & SG__K_OBJECT) && !v_object(c, n, inst, ip, kp, sc)) return 0;
  if (kw & SG__K_APPLICATOR) {
    if ((kw & SG__K_ALTERNATIVES) ? !v_alt_only(c, n, inst, ip, kp, sc)
                                  : !v_applicators(c, n, inst, ip, kp, sc, &if_ok))
      return 0;
  }
  if (!(kw & SG__K_UNEVALUATED)) return 1;
  if (n->evaluated.slots && json_is_object(inst) && !c->legacy)
    return v_unevaluated_known(c, n, inst, ip, kp, sc, if_ok);
  return v_unevaluated(c, n, inst, ip, kp, sc);
}

/* Reads an object's members into a view, looking each up in plan's table when there is
   one; 0 when they do not fit. */
static int view_build(vctx_t *c, json_t *obj, const sg__plan_t *plan, view_t *v) {
  size_t size = json_object_size(obj);
  if (size > sizeof c->members / sizeof c->members[0] - c->nmembers) return 0;
  member_t *m = c->members + c->nmembers;
  size_t i = 0;
  uint64_t seen = 0;
  size_t unknown = 0;
  for (void *it = json_object_iter(obj); it && i < size; it = json_object_iter_next(obj, it), i++) {
    m[i].key = json_object_iter_key(it);
    m[i].len = json_object_iter_key_len(it);
    m[i].val = json_object_iter_value(it);
    m[i].hash = sg__key_hash(m[i].key, m[i].len, &m[i].head);
    if (plan == NULL) continue;
    const sg__slot_t *e = sg__names_get(&plan->names, m[i].key, m[i].len, m[i].head, m[i].hash);
    m[i].id = e ? (unsigned char)e->id : SG__PLAN_NONE;
    if (e == NULL) {
      unknown++;
      continue;
    }
    seen |= (uint64_t)1 << e->id;
    v->vals[e->id] = m[i].val;
  }
  v->plan = plan;
  v->seen = seen;
  v->unknown = unknown;
  v->obj = obj;
  v->m = m;
  v->n = i;
  c->nmembers += i;
  /* An index on the names, so that a node with few names looks them up; comparing with a
     few members (view_scan) costs less than building it. */
  size_t cap = 8;
  while (cap < 2 * i) cap *= 2;
  v->index = NULL;
  if (i > 8 && cap <= sizeof c->index / sizeof c->index[0] - c->nindex) {
    uint16_t *x = c->index + c->nindex;
    memset(x, 0, cap * sizeof *x);
    for (size_t k = 0; k < i; k++) {
      size_t s = m[k].hash & (cap - 1);
      while (x[s]) s = (s + 1) & (cap - 1);
      x[s] = (uint16_t)(k + 1);
    }
    v->index = x;
    v->mask = cap - 1;
    c->nindex += cap;
  }
  return 1;
}

/* The keywords that descend into subschemas. The first node to read an object's members
   by name gives the object a view, which lasts as long as that node's evaluation, so
   that the nodes it applies in place read the same view. */
static __attribute__((noinline)) int v_slow(vctx_t *c, const sg__node_t *n, json_t *inst,
                                            const ipath_t *ip, const kpath_t *kp,
                                            const scope_t *sc) {
  view_t own;
  const view_t *up = c->view;
  size_t mark = c->nmembers, imark = c->nindex;
  if ((n->kw & SG__K_MEMBERS) && json_is_object(inst) && !(up && up->obj == inst) &&
      view_build(c, inst, n->plan, &own))
    c->view = &own;
  int ok = v_slow_in(c, n, inst, ip, kp, sc);
  c->view = up;
  c->nmembers = mark;
  c->nindex = imark;
  return ok;
}

/* v_node where the dynamic scope is kept: enter pushes a frame for a new resource. */
static __attribute__((noinline)) int v_node_scoped(vctx_t *c, const sg__node_t *n, json_t *inst,
                                                   const ipath_t *ip, const kpath_t *kp,
                                                   const scope_t *sc) {
  scope_t frame;
  if (!enter(c, n, ip, kp, sc, &frame, &sc)) return 0;
  int ok = v_body(c, n, inst, ip, kp, sc);
  c->depth--;
  return ok && !c->aborted;
}

static int v_node(vctx_t *c, const sg__node_t *n, json_t *inst, const ipath_t *ip,
                  const kpath_t *kp, const scope_t *sc) {
  if (c->dynamic) return v_node_scoped(c, n, inst, ip, kp, sc);
  if (c->aborted) return 0;
  if (c->depth >= SG__MAX_DEPTH)
    return abort_eval(c, ip, kp, "", "schema evaluation is nested too deeply (a $ref cycle?)");
  if (++c->depth > c->peak) c->peak = c->depth;
  int ok = v_body(c, n, inst, ip, kp, sc);
  c->depth--;
  return ok && !c->aborted;
}

/* Both entry points: the first error into err, or every error through sink (err is then
   the scratch space each one is written to). */
static int validate(const sg_schema_t *s, json_t *instance, sg_schema_error_t *err,
                    sg_schema_error_fn sink, void *sink_data) {
  vctx_t c;
  memset(&c, 0, offsetof(vctx_t, vals));
  c.view = NULL;
  c.nmembers = c.nindex = 0;
  c.lead_node = NULL;
  c.out = err;
  c.sink = sink;
  c.sink_data = sink_data;
  c.dynamic = c.halt = s ? s->dynamic : 0;
  /* Errors once sunk cannot be taken back, so the every-error mode cannot evaluate a
     second time (below): it works out what was evaluated from the start. */
  c.legacy = sink != NULL;
  if (err) {
    err->instance_location[0] = err->keyword_location[0] = '\0';
    err->keyword[0] = err->message[0] = '\0';
  }
  if (s == NULL || instance == NULL) {
    if (err) snprintf(err->message, sizeof err->message, s ? "no value" : "no schema");
    if (sink) sink(sink_data, err);
    return SG_EINVALID_ARGS;
  }
  int ok = v_node(&c, s->root, instance, NULL, NULL, NULL);
  if (c.used_evaluated && c.peak + 1 >= SG__MAX_DEPTH - 16) {
    /* Working out what was evaluated enters nodes up to ten levels deeper than the
       evaluation itself, and the depth limit applies there too: this close to it, the
       outcome is the one that working it out gives. */
    memset(&c, 0, offsetof(vctx_t, vals));
    c.view = NULL;
    c.nmembers = c.nindex = 0;
    c.lead_node = NULL;
    c.out = err;
    c.dynamic = c.halt = s->dynamic;
    c.legacy = 1;
    if (err) {
      err->instance_location[0] = err->keyword_location[0] = '\0';
      err->keyword[0] = err->message[0] = '\0';
    }
    ok = v_node(&c, s->root, instance, NULL, NULL, NULL);
  }
  if (ok && !c.aborted && c.nsunk == 0) return 0;
  if (err && !c.filled && (sink == NULL || c.nsunk == 0)) {
    snprintf(err->message, sizeof err->message, "value is not valid");
    if (sink) sink(sink_data, err);
  }
  return SG_EINVALID_ARGS;
}

int sg_schema_validate(const sg_schema_t *s, json_t *instance, sg_schema_error_t *err) {
  return validate(s, instance, err, NULL, NULL);
}

int sg_schema_validate_all(const sg_schema_t *s, json_t *instance, sg_schema_error_fn fn,
                           void *data) {
  sg_schema_error_t scratch;
  return validate(s, instance, &scratch, fn, data);
}
