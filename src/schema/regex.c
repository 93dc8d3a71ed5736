/*
 * ECMA-262 patterns on PCRE2. PCRE2 without PCRE2_UCP already gives \d, \w and \b their
 * ECMA (ASCII) meaning, and PCRE2_DOLLAR_ENDONLY gives "$" its ECMA meaning (the end of
 * the subject, not before a final newline). What differs is rewritten here: \s and \S
 * (ECMA counts Unicode spaces and the BOM), ".", \uXXXX and \u{...} escapes, \xHH, \v, \0,
 * the empty classes [] and [^], a literal "[" inside a class, and identity escapes of
 * letters that PCRE2 would read as its own extensions.
 */
#include "schema/regex.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"

/* Memcheck cannot follow JIT-compiled matching and reports its reads as uninitialised;
   under valgrind the interpreter runs instead, so that valgrind runs stay clean. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif

/* ECMA WhiteSpace and LineTerminator, as class contents, and their complement. */
#define WS_CLASS                                                                       \
  "\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}" \
  "\\x{205f}\\x{3000}\\x{feff}"
#define NWS_CLASS                                                                  \
  "\\x{0}-\\x{8}\\x{e}-\\x{1f}\\x{21}-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}" \
  "\\x{200b}-\\x{2027}\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}"   \
  "\\x{3001}-\\x{fefe}\\x{ff00}-\\x{10ffff}"

static int is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads n hex digits at p (bounded by end); returns the value or -1. */
static long hexn(const char *p, const char *end, int n) {
  if (end - p < n) return -1;
  long v = 0;
  for (int i = 0; i < n; i++) {
    int h = hexval(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* ECMA names Unicode general categories by their long names too, and accepts the
   "General_Category=" and "gc=" prefixes; PCRE2 10.42 knows only the short names. */
static const char *const categories[][2] = {
    {"Letter", "L"},
    {"Cased_Letter", "LC"},
    {"Uppercase_Letter", "Lu"},
    {"Lowercase_Letter", "Ll"},
    {"Titlecase_Letter", "Lt"},
    {"Modifier_Letter", "Lm"},
    {"Other_Letter", "Lo"},
    {"Mark", "M"},
    {"Combining_Mark", "M"},
    {"Nonspacing_Mark", "Mn"},
    {"Spacing_Mark", "Mc"},
    {"Enclosing_Mark", "Me"},
    {"Number", "N"},
    {"Decimal_Number", "Nd"},
    {"digit", "Nd"},
    {"Letter_Number", "Nl"},
    {"Other_Number", "No"},
    {"Punctuation", "P"},
    {"punct", "P"},
    {"Connector_Punctuation", "Pc"},
    {"Dash_Punctuation", "Pd"},
    {"Open_Punctuation", "Ps"},
    {"Close_Punctuation", "Pe"},
    {"Initial_Punctuation", "Pi"},
    {"Final_Punctuation", "Pf"},
    {"Other_Punctuation", "Po"},
    {"Symbol", "S"},
    {"Math_Symbol", "Sm"},
    {"Currency_Symbol", "Sc"},
    {"Modifier_Symbol", "Sk"},
    {"Other_Symbol", "So"},
    {"Separator", "Z"},
    {"Space_Separator", "Zs"},
    {"Line_Separator", "Zl"},
    {"Paragraph_Separator", "Zp"},
    {"Other", "C"},
    {"Control", "Cc"},
    {"cntrl", "Cc"},
    {"Format", "Cf"},
    {"Surrogate", "Cs"},
    {"Private_Use", "Co"},
    {"Unassigned", "Cn"},
};

/* Writes \p{...} or \P{...} for the property named at p (after the brace), or returns 1
   when the name is not a general category, leaving the escape to PCRE2 as written. */
static int property(sg_buf_t *b, char kind, const char **pp, const char *end, int *rc) {
  const char *p = *pp, *close = memchr(p, '}', (size_t)(end - p));
  if (close == NULL) return 1;
  size_t len = (size_t)(close - p);
  static const char *const prefixes[] = {"General_Category=", "gc="};
  for (int i = 0; i < 2; i++) {
    size_t pl = strlen(prefixes[i]);
    if (len > pl && memcmp(p, prefixes[i], pl) == 0) {
      p += pl;
      len -= pl;
      break;
    }
  }
  const char *name = NULL;
  for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++)
    if (strlen(categories[i][0]) == len && memcmp(categories[i][0], p, len) == 0)
      name = categories[i][1];
  if (name == NULL && p == *pp) return 1;
  if (name == NULL) {
    *rc = sg_buf_printf(b, "\\%c{%.*s}", kind, (int)len, p);
  } else {
    *rc = sg_buf_printf(b, "\\%c{%s}", kind, name);
  }
  *pp = close + 1;
  return 0;
}

/* Translates one escape starting after the backslash at *pp; advances *pp past it. */
static int escape(sg_buf_t *b, const char **pp, const char *end, int in_class) {
  const char *p = *pp;
  char c = *p++;
  int rc = 0;
  long cp;
  switch (c) {
    case 's':
      rc = sg_buf_append_str(b, in_class ? WS_CLASS : "[" WS_CLASS "]");
      break;
    case 'S':
      rc = sg_buf_append_str(b, in_class ? NWS_CLASS : "[" NWS_CLASS "]");
      break;
    case 'v':
      rc = sg_buf_append_str(b, "\\x{0b}");
      break;
    case '0':
      if (p < end && *p >= '0' && *p <= '9') {
        rc = sg_buf_append(b, "\\0", 2); /* legacy octal; PCRE2 reads it the same way */
      } else {
        rc = sg_buf_append_str(b, "\\x{0}");
      }
      break;
    case 'x':
      cp = hexn(p, end, 2);
      if (cp < 0) {
        rc = sg_buf_append(b, "x", 1);
      } else {
        rc = sg_buf_printf(b, "\\x{%lx}", cp);
        p += 2;
      }
      break;
    case 'u':
      if (p < end && *p == '{') {
        const char *q = p + 1;
        cp = 0;
        while (q < end && hexval(*q) >= 0 && cp <= 0x10ffff) cp = cp * 16 + hexval(*q++);
        if (q < end && *q == '}' && q > p + 1 && cp <= 0x10ffff) {
          if (cp >= 0xd800 && cp <= 0xdfff) return SG_EINVAL;
          rc = sg_buf_printf(b, "\\x{%lx}", cp);
          p = q + 1;
          break;
        }
        rc = sg_buf_append(b, "u", 1);
        break;
      }
      cp = hexn(p, end, 4);
      if (cp < 0) {
        rc = sg_buf_append(b, "u", 1);
        break;
      }
      p += 4;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        long lo = -1;
        if (end - p >= 6 && p[0] == '\\' && p[1] == 'u') lo = hexn(p + 2, end, 4);
        if (lo < 0xdc00 || lo > 0xdfff) return SG_EINVAL;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return SG_EINVAL;
      }
      rc = sg_buf_printf(b, "\\x{%lx}", cp);
      break;
    case 'c':
      if (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
        rc = sg_buf_printf(b, "\\x{%x}", (unsigned)(*p % 32));
        p++;
      } else {
        rc = sg_buf_append(b, "\\\\c", 3);
      }
      break;
    case 'p':
    case 'P':
      if (p < end && *p == '{') {
        p++;
        if (property(b, c, &p, end, &rc) == 0) break;
        p--;
      }
      rc = sg_buf_printf(b, "\\%c", c);
      break;
    case 'k':
    case 'd':
    case 'D':
    case 'w':
    case 'W':
    case 'b':
    case 'B':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      rc = sg_buf_printf(b, "\\%c", c);
      break;
    default:
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        /* Not an ECMA escape: the letter itself. */
        rc = sg_buf_append(b, &c, 1);
      } else {
        /* Digits (back references) and punctuation keep their backslash; any other
           UTF-8 lead byte is copied as is and its continuation bytes follow. */
        char e[2] = {'\\', c};
        rc = ((unsigned char)c < 0x80) ? sg_buf_append(b, e, 2) : sg_buf_append(b, &c, 1);
      }
      break;
  }
  *pp = p;
  return rc;
}

int sg__regex_translate(const char *src, size_t len, char **out, size_t *outlen) {
  sg_buf_t b;
  sg_buf_init(&b);
  const char *p = src, *end = src + len;
  int in_class = 0, rc = sg_buf_reserve(&b, len + 16);
  while (rc == 0 && p < end) {
    char c = *p++;
    if (c == '\\') {
      if (p == end) {
        rc = sg_buf_append(&b, "\\\\", 2);
        break;
      }
      char kind = *p;
      rc = escape(&b, &p, end, in_class);
      /* PCRE2 refuses a range that starts at a class escape; ECMA reads the "-" as
         a literal. */
      if (rc == 0 && in_class && strchr("sSdDwW", kind) && p < end - 1 && *p == '-' &&
          p[1] != ']') {
        rc = sg_buf_append(&b, "\\-", 2);
        p++;
      }
    } else if (in_class) {
      if (c == ']') in_class = 0;
      rc = (c == '[') ? sg_buf_append(&b, "\\[", 2) : sg_buf_append(&b, &c, 1);
    } else if (c == '[') {
      if (p < end && *p == ']') {
        rc = sg_buf_append_str(&b, "(?!)");
        p++;
      } else if (end - p >= 2 && p[0] == '^' && p[1] == ']') {
        rc = sg_buf_append_str(&b, "(?s:.)");
        p += 2;
      } else {
        in_class = 1;
        rc = sg_buf_append(&b, "[", 1);
        if (rc == 0 && p < end && *p == '^') {
          rc = sg_buf_append(&b, "^", 1);
          p++;
        }
      }
    } else if (c == '.') {
      rc = sg_buf_append_str(&b, "[^\\n\\r\\x{2028}\\x{2029}]");
    } else {
      rc = sg_buf_append(&b, &c, 1);
    }
  }
  if (rc) {
    sg_buf_free(&b);
    return rc;
  }
  *out = sg_buf_steal(&b, outlen);
  if (*out == NULL) return SG_ENOMEM;
  return 0;
}

int sg__regex_strict(const char *src, size_t len) {
  int in_class = 0;
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    if (c == '\\') {
      if (++i == len) return 0;
      char e = src[i];
      if (is_letter(e) && !strchr("bBdDwWsSfnrtvcxukpP", e)) return 0;
    } else if (in_class) {
      if (c == ']') in_class = 0;
    } else if (c == '[') {
      in_class = 1;
    } else if (c == '(' && i + 1 < len && src[i + 1] == '?') {
      char k = i + 2 < len ? src[i + 2] : '\0';
      if (k == '<' && i + 3 < len && (src[i + 3] == '=' || src[i + 3] == '!')) continue;
      if (k == '<') {
        size_t j = i + 3;
        while (j < len && (is_letter(src[j]) || src[j] == '_' || src[j] == '$' ||
                           (src[j] >= '0' && src[j] <= '9')))
          j++;
        if (j == i + 3 || j >= len || src[j] != '>') return 0;
        continue;
      }
      if (k != ':' && k != '=' && k != '!') return 0;
    }
  }
  return 1;
}

int sg__regex_compile(const char *src, size_t len, pcre2_code **out, char *msg, size_t msglen) {
  char *pat = NULL;
  size_t plen = 0;
  *out = NULL;
  int rc = sg__regex_translate(src, len, &pat, &plen);
  if (rc == SG_ENOMEM) return rc;
  if (rc) {
    snprintf(msg, msglen, "pattern has an unpaired surrogate escape");
    return SG_ESCHEMA;
  }
  int errcode = 0;
  PCRE2_SIZE erroff = 0;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, plen,
                                 PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C,
                                 &errcode, &erroff, NULL);
  free(pat);
  if (re == NULL) {
    if (errcode == PCRE2_ERROR_NOMEMORY) return SG_ENOMEM;
    char why[160];
    pcre2_get_error_message(errcode, (PCRE2_UCHAR *)why, sizeof why);
    snprintf(msg, msglen, "pattern does not compile: %s", why);
    return SG_ESCHEMA;
  }
  /* Compiled to machine code where PCRE2 supports it; matching falls back to the
     interpreter otherwise. */
  if (!UNDER_VALGRIND()) pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
  *out = re;
  return 0;
}

/* Per-thread matching state; the compiled patterns themselves are never written. */
static _Thread_local pcre2_match_data *tl_md;
static _Thread_local pcre2_match_context *tl_mc;
static _Thread_local pcre2_jit_stack *tl_js;

/* Whether s is ASCII, and so valid UTF-8 whatever made it. */
static int ascii(const char *s, size_t len) {
  uint64_t any = 0;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    any |= w;
  }
  for (; i < len; i++) any |= (unsigned char)s[i];
  return (any & 0x8080808080808080ull) == 0;
}

int sg__regex_search(const pcre2_code *re, const char *s, size_t len) {
  if (tl_mc == NULL) {
    tl_mc = pcre2_match_context_create(NULL);
    if (tl_mc == NULL) return SG__RE_LIMIT;
    pcre2_set_match_limit(tl_mc, SG__RE_MATCH_LIMIT);
    pcre2_set_depth_limit(tl_mc, SG__RE_DEPTH_LIMIT);
    pcre2_set_heap_limit(tl_mc, SG__RE_HEAP_LIMIT_KIB);
    tl_js = pcre2_jit_stack_create(32 * 1024, SG__RE_JIT_STACK_MAX, NULL);
    if (tl_js) pcre2_jit_stack_assign(tl_mc, NULL, tl_js);
  }
  if (tl_md == NULL) {
    tl_md = pcre2_match_data_create(1, NULL);
    if (tl_md == NULL) return SG__RE_LIMIT;
  }
  /* pcre2_match checks that the subject is valid UTF-8 before it runs the JIT code; an
     ASCII subject is, so it goes to the JIT code directly. pcre2_jit_match refuses a
     pattern that was not JIT-compiled, and the interpreter takes it. */
  int rc = PCRE2_ERROR_JIT_BADOPTION;
  if (ascii(s, len)) rc = pcre2_jit_match(re, (PCRE2_SPTR)s, len, 0, 0, tl_md, tl_mc);
  if (rc == PCRE2_ERROR_JIT_BADOPTION) rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, tl_md, tl_mc);
  if (rc >= 0) return SG__RE_MATCH;
  if (rc == PCRE2_ERROR_NOMATCH) return SG__RE_NOMATCH;
  return SG__RE_LIMIT;
}

void sg__regex_thread_cleanup(void) {
  pcre2_match_data_free(tl_md);
  pcre2_match_context_free(tl_mc);
  pcre2_jit_stack_free(tl_js);
  tl_md = NULL;
  tl_mc = NULL;
  tl_js = NULL;
}

/* ---- the simplest patterns ----
 *
 * A simple pattern is a sequence of atoms (one byte, ".", a class), each with a
 * quantifier. Atom x{m,n} becomes m elements that must match and n - m optional ones; x*
 * and x+ end in an element that repeats. Position i lies before element i, and the
 * positions reachable after each byte form a 64-bit mask: a byte moves each position whose
 * element matches it one step on (or keeps it, for a repeating element), then the
 * optional elements are skipped: for each run of them, every position from the first one
 * reached to the end of the run is reachable. The subject matches when the position after
 * the last element is reached (at the end of the subject, with "$"). The masks reachable
 * from the start become the states of the automaton.
 */

#define SIMPLE_ELEMENTS 63
/* The bound on the steps PCRE2 may take on a simple pattern that max_len is derived from:
   a tenth of its match limit. */
#define SIMPLE_STEPS (SG__RE_MATCH_LIMIT / 10)

typedef struct {
  uint64_t w[2]; /* ASCII bytes */
} cset_t;

static void cs_add(cset_t *s, unsigned c) {
  s->w[c >> 6] |= (uint64_t)1 << (c & 63);
}

static void cs_range(cset_t *s, unsigned a, unsigned b) {
  for (unsigned c = a; c <= b; c++) cs_add(s, c);
}

/* \d, \w, \s and their complements, over ASCII: the ECMA meanings. */
static int cs_escape_class(cset_t *s, char e) {
  cset_t t = {{0, 0}};
  switch (e | 0x20) {
    case 'd':
      cs_range(&t, '0', '9');
      break;
    case 'w':
      cs_range(&t, '0', '9');
      cs_range(&t, 'a', 'z');
      cs_range(&t, 'A', 'Z');
      cs_add(&t, '_');
      break;
    case 's':
      cs_range(&t, '\t', '\r');
      cs_add(&t, ' ');
      break;
    default:
      return 0;
  }
  if (e >= 'A' && e <= 'Z') {
    t.w[0] = ~t.w[0];
    t.w[1] = ~t.w[1];
  }
  s->w[0] |= t.w[0];
  s->w[1] |= t.w[1];
  return 1;
}

/* The byte an escape stands for, when it stands for one byte; -1 otherwise. */
static int escaped_byte(char e) {
  switch (e) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'f':
      return '\f';
    case 'v':
      return '\v';
    default:
      if (e > 0x20 && e < 0x7f && !is_letter(e) && !(e >= '0' && e <= '9')) return e;
      return -1;
  }
}

static int plain(char c) {
  return c >= 0x20 && c < 0x7f;
}

/* A range starts here: "-" followed by something other than "]". */
static int range_next(const char *p, const char *end) {
  return end - p >= 2 && p[0] == '-' && p[1] != ']';
}

/* Reads the class after "[" at p into s; returns the position after "]", or NULL. */
static const char *simple_class(const char *p, const char *end, cset_t *s) {
  int negate = 0;
  if (p < end && *p == '^') {
    negate = 1;
    p++;
  }
  if (p < end && *p == ']') return NULL; /* [] and [^] */
  while (p < end && *p != ']') {
    char c = *p;
    if (c == '\\') {
      if (end - p < 2) return NULL;
      char e = p[1];
      p += 2;
      if (range_next(p, end)) return NULL;
      if (cs_escape_class(s, e)) continue;
      int b = escaped_byte(e);
      if (b < 0) return NULL;
      cs_add(s, (unsigned)b);
      continue;
    }
    if (!plain(c)) return NULL;
    p++;
    if (range_next(p, end)) {
      char d = p[1];
      if (d == '\\' || !plain(d) || (unsigned char)d < (unsigned char)c) return NULL;
      cs_range(s, (unsigned char)c, (unsigned char)d);
      p += 2;
      if (range_next(p, end)) return NULL;
      continue;
    }
    cs_add(s, (unsigned char)c);
  }
  if (p == end) return NULL;
  if (negate) {
    s->w[0] = ~s->w[0];
    s->w[1] = ~s->w[1];
  }
  return p + 1;
}

/* Reads one atom at p into s; returns the position after it, or NULL. */
static const char *simple_atom(const char *p, const char *end, cset_t *s) {
  char c = *p;
  if (c == '.') {
    s->w[0] = s->w[1] = ~(uint64_t)0;
    s->w[0] &= ~((uint64_t)1 << '\n' | (uint64_t)1 << '\r');
    return p + 1;
  }
  if (c == '[') return simple_class(p + 1, end, s);
  if (c == '\\') {
    if (end - p < 2) return NULL;
    if (cs_escape_class(s, p[1])) return p + 2;
    int b = escaped_byte(p[1]);
    if (b < 0) return NULL;
    cs_add(s, (unsigned)b);
    return p + 2;
  }
  if (!plain(c) || strchr("^$.*+?()[]{}|", c)) return NULL;
  cs_add(s, (unsigned char)c);
  return p + 1;
}

/* Reads a number of at most four digits; NULL when there is none. */
static const char *simple_count(const char *p, const char *end, unsigned *n) {
  const char *start = p;
  *n = 0;
  while (p < end && *p >= '0' && *p <= '9' && p - start < 4) *n = *n * 10 + (unsigned)(*p++ - '0');
  if (p == start || (p < end && *p >= '0' && *p <= '9')) return NULL;
  return p;
}

/* Reads the quantifier at p, if any; max is UINT32_MAX for no bound. */
static const char *simple_quantifier(const char *p, const char *end, unsigned *min, unsigned *max) {
  *min = *max = 1;
  if (p == end) return p;
  switch (*p) {
    case '?':
      *min = 0;
      p++;
      break;
    case '*':
      *min = 0;
      *max = UINT32_MAX;
      p++;
      break;
    case '+':
      *max = UINT32_MAX;
      p++;
      break;
    case '{':
      if ((p = simple_count(p + 1, end, min)) == NULL || p == end) return NULL;
      if (*p == ',') {
        p++;
        if (p < end && *p == '}') {
          *max = UINT32_MAX;
        } else if ((p = simple_count(p, end, max)) == NULL || *max < *min) {
          return NULL;
        }
      } else {
        *max = *min;
      }
      if (p == end || *p != '}') return NULL;
      p++;
      break;
    default:
      return p;
  }
  if (p < end && *p == '?') p++; /* lazy: the same strings match */
  if (p < end && strchr("*+?{", *p)) return NULL;
  return p;
}

/* The positions the sequence of elements describes (see above). */
typedef struct {
  uint64_t cls[128];
  uint64_t repeat;
  uint64_t skip_lo[8], skip_all[8];
  size_t nskips;
  uint64_t start, accept;
  int anchored_start;
} nfa_t;

static uint64_t nfa_closure(const nfa_t *a, uint64_t m) {
  for (size_t k = 0; k < a->nskips; k++) {
    uint64_t x = m & a->skip_lo[k];
    if (x) m |= a->skip_all[k] & ~((x & (0 - x)) - 1);
  }
  return m;
}

static uint64_t nfa_step(const nfa_t *a, uint64_t m, unsigned c) {
  uint64_t x = m & a->cls[c];
  m = nfa_closure(a, ((x & ~a->repeat) << 1) | (x & a->repeat));
  return a->anchored_start ? m : m | a->start;
}

/* Turns the positions into states; 0 when there are too many. */
static int determinize(const nfa_t *a, sg__simple_re_t *out) {
  /* Bytes that every element treats alike share a class. */
  uint64_t cols[SG__SIMPLE_CLASSES];
  unsigned ncls = 0;
  for (unsigned c = 0; c < 128; c++) {
    unsigned k = 0;
    while (k < ncls && cols[k] != a->cls[c]) k++;
    if (k == ncls) {
      if (ncls == SG__SIMPLE_CLASSES) return 0;
      cols[ncls++] = a->cls[c];
    }
    out->byte_class[c] = (unsigned char)k;
  }
  unsigned char rep[SG__SIMPLE_CLASSES];
  for (unsigned c = 128; c-- > 0;) rep[out->byte_class[c]] = (unsigned char)c;
  uint64_t states[SG__SIMPLE_STATES];
  unsigned n = 0;
  states[n++] = a->start;
  out->start = 0;
  for (unsigned i = 0; i < n; i++) {
    for (unsigned k = 0; k < ncls; k++) {
      uint64_t m = nfa_step(a, states[i], rep[k]);
      unsigned j = 0;
      while (j < n && states[j] != m) j++;
      if (j == n) {
        if (n == SG__SIMPLE_STATES) return 0;
        states[n++] = m;
      }
      out->next[i * SG__SIMPLE_CLASSES + k] = (uint16_t)(j * SG__SIMPLE_CLASSES);
    }
  }
  for (unsigned i = 0; i < n; i++) {
    out->accepting[i] = (states[i] & a->accept) != 0;
    out->dead[i] = states[i] == 0;
  }
  out->unknown = SG__SIMPLE_STATES;
  if (ncls < SG__SIMPLE_CLASSES && n < SG__SIMPLE_STATES) {
    /* Room for the state of non-ASCII subjects, so that a whole subject is read in one
       loop without checking it is ASCII first. */
    for (unsigned c = 128; c < 256; c++) out->byte_class[c] = (unsigned char)ncls;
    for (unsigned i = 0; i < n; i++)
      out->next[i * SG__SIMPLE_CLASSES + ncls] = (uint16_t)(n * SG__SIMPLE_CLASSES);
    for (unsigned k = 0; k <= ncls; k++)
      out->next[n * SG__SIMPLE_CLASSES + k] = (uint16_t)(n * SG__SIMPLE_CLASSES);
    out->unknown = (unsigned char)n;
  }
  return 1;
}

int sg__regex_simple(const char *src, size_t len, sg__simple_re_t *out) {
  const char *p = src, *end = src + len;
  nfa_t a;
  memset(&a, 0, sizeof a);
  memset(out, 0, sizeof *out);
  unsigned e = 0;
  uint64_t skip = 0;
  double ranges[SIMPLE_ELEMENTS]; /* of the atoms with a choice: max - min, or -1: no bound */
  size_t nranges = 0, natoms = 0;
  if (p < end && *p == '^') {
    a.anchored_start = 1;
    p++;
  }
  while (p < end) {
    if (*p == '$' && p + 1 == end) {
      out->anchored_end = 1;
      break;
    }
    cset_t s = {{0, 0}};
    unsigned min, max;
    if ((p = simple_atom(p, end, &s)) == NULL) return 0;
    if ((p = simple_quantifier(p, end, &min, &max)) == NULL) return 0;
    unsigned add = max == UINT32_MAX ? min + 1 : max;
    if (add > SIMPLE_ELEMENTS - e) return 0;
    natoms++;
    if (max != min) ranges[nranges++] = max == UINT32_MAX ? -1 : (double)(max - min);
    for (unsigned i = 0; i < add; i++, e++) {
      for (unsigned c = 0; c < 128; c++)
        if ((s.w[c >> 6] >> (c & 63)) & 1) a.cls[c] |= (uint64_t)1 << e;
      if (i >= min) skip |= (uint64_t)1 << e;
      if (i == min && max == UINT32_MAX) a.repeat |= (uint64_t)1 << e;
    }
  }
  /* The runs of optional elements. */
  for (unsigned i = 0; i < e;) {
    if (!((skip >> i) & 1)) {
      i++;
      continue;
    }
    unsigned j = i;
    while (j < e && ((skip >> j) & 1)) j++;
    if (a.nskips == sizeof a.skip_lo / sizeof a.skip_lo[0]) return 0;
    uint64_t run = (((uint64_t)1 << (j - i)) - 1) << i;
    a.skip_lo[a.nskips] = run;
    a.skip_all[a.nskips] = run | (uint64_t)1 << j;
    a.nskips++;
    i = j;
  }
  a.start = nfa_closure(&a, 1);
  a.accept = (uint64_t)1 << e;
  if (!determinize(&a, out)) return 0;
  /* The longest subject on which a backtracking matcher takes at most SIMPLE_STEPS steps:
     one per combination of the choices of the atoms, at each start position. */
  size_t lo = 0, hi = 65536;
  while (lo < hi) {
    size_t n = (lo + hi + 1) / 2;
    double steps = (double)(natoms + 1) * (a.anchored_start ? 1.0 : (double)n + 1);
    for (size_t k = 0; k < nranges; k++)
      steps *= (ranges[k] < 0 || ranges[k] > (double)n ? (double)n : ranges[k]) + 1;
    if (steps <= SIMPLE_STEPS) {
      lo = n;
    } else {
      hi = n - 1;
    }
  }
  if (lo == 0) return 0;
  out->max_len = lo;
  return 1;
}

int sg__regex_simple_search(const sg__simple_re_t *re, const char *s, size_t len) {
  if (len > re->max_len) return SG__RE_UNKNOWN;
  const unsigned char *u = (const unsigned char *)s, *cls = re->byte_class;
  const uint16_t *next = re->next;
  unsigned st = re->start;
  if (re->anchored_end && re->unknown < SG__SIMPLE_STATES) {
    /* One lookup per byte, and the last state says it all: a dead state leads only to
       itself (a search that can start anywhere never dies) or to the unknown state. Two
       bytes a turn, since the loop's own steps cost about as much as a lookup. */
    size_t i = 0;
    for (; i + 1 < len; i += 2) {
      st = next[st + cls[u[i]]];
      st = next[st + cls[u[i + 1]]];
    }
    if (i < len) st = next[st + cls[u[i]]];
    st /= SG__SIMPLE_CLASSES;
    if (st == re->unknown) return SG__RE_UNKNOWN;
    return re->accepting[st] ? SG__RE_MATCH : SG__RE_NOMATCH;
  }
  if (!ascii(s, len)) return SG__RE_UNKNOWN;
  if (re->anchored_end) {
    for (size_t i = 0; i < len; i++) {
      st = next[st + cls[u[i]]];
      if (re->dead[st / SG__SIMPLE_CLASSES]) return SG__RE_NOMATCH;
    }
  } else {
    for (size_t i = 0; i < len; i++) {
      if (re->accepting[st / SG__SIMPLE_CLASSES]) return SG__RE_MATCH;
      st = next[st + cls[u[i]]];
      if (re->dead[st / SG__SIMPLE_CLASSES]) return SG__RE_NOMATCH;
    }
  }
  return re->accepting[st / SG__SIMPLE_CLASSES] ? SG__RE_MATCH : SG__RE_NOMATCH;
}
