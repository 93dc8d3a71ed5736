/*
 * Path normalisation for prefix rules (see path.h). The rules are deliberately strict:
 * a value that needs a judgement call is refused, not guessed at.
 */
#include "policy/path.h"

#include <stdint.h>
#include <string.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  if (s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  size_t len = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
  if (len == 0 || len > n) return 0;
  uint32_t c = s[0] & (0x7f >> len);
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3f);
  }
  static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  *cp = c;
  return len;
}

/* Characters that render like '/', '\' or '.', which a downstream (or a person) might
 * read as path syntax. */
static int lookalike(uint32_t c) {
  static const uint32_t set[] = {
      0x2215, 0x2044, 0xff0f, 0x29f8, 0x1735, 0x2571, 0x27cb, 0x3033, /* slashes */
      0xff3c, 0x2216, 0xfe68, 0x29f5, 0x29f9, 0x27cd,                 /* backslashes */
      0xff0e, 0x2024, 0xfe52, 0x3002, 0xff61, 0x2e2e, 0x00b7, 0x2027, /* dots */
      0x2025, 0x2026, 0xfe19, 0xff05, 0xfe6a,                         /* "..", "...", % */
  };
  if (c >= 0x200b && c <= 0x200f) return 1; /* zero-width and direction marks */
  if (c >= 0x202a && c <= 0x202e) return 1;
  if (c == 0xfeff) return 1;
  for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
    if (set[i] == c) return 1;
  return 0;
}

int sg_path_normalize(const char *in, size_t len, char *out, size_t outlen, const char **why) {
  char decoded[4096];
  size_t n = 0;
  if (len >= sizeof decoded || outlen < 2) {
    *why = "path is too long";
    return -1;
  }
  for (size_t i = 0; i < len; i++) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= len) {
        *why = "incomplete percent-escape";
        return -1;
      }
      int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
      if (h < 0 || l < 0) {
        *why = "invalid percent-escape";
        return -1;
      }
      c = (char)(h * 16 + l);
      if (c == '%' && i + 4 < len && hexval(in[i + 3]) >= 0 && hexval(in[i + 4]) >= 0) {
        *why = "percent-escapes inside percent-escapes are not accepted";
        return -1;
      }
      i += 2;
    }
    decoded[n++] = c;
  }
  /* Check every character of the decoded text. */
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    size_t k = utf8_decode((const unsigned char *)decoded + i, n - i, &cp);
    if (k == 0) {
      *why = "invalid UTF-8";
      return -1;
    }
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
      *why = "control characters are not accepted";
      return -1;
    }
    if (cp == '\\') {
      *why = "backslashes are not accepted";
      return -1;
    }
    if (lookalike(cp)) {
      *why = "characters that look like path separators or dots are not accepted";
      return -1;
    }
    i += k;
  }
  /* Resolve segments. starts[] remembers where each kept segment begins in out. */
  size_t o = 0, depth = 0;
  size_t starts[512];
  int absolute = n > 0 && decoded[0] == '/';
  if (absolute) out[o++] = '/';
  size_t i = 0;
  while (i < n) {
    while (i < n && decoded[i] == '/') i++;
    size_t s = i;
    while (i < n && decoded[i] != '/') i++;
    size_t seglen = i - s;
    if (seglen == 0 || (seglen == 1 && decoded[s] == '.')) continue;
    if (seglen == 2 && decoded[s] == '.' && decoded[s + 1] == '.') {
      if (depth == 0) {
        *why = "\"..\" climbs above the start of the path";
        return -1;
      }
      o = starts[--depth];
      continue;
    }
    if (depth == sizeof starts / sizeof starts[0]) {
      *why = "path has too many segments";
      return -1;
    }
    starts[depth++] = o;
    size_t need = (o > (size_t)absolute ? 1 : 0) + seglen;
    if (o + need + 1 > outlen) {
      *why = "path is too long";
      return -1;
    }
    if (o > (size_t)absolute) out[o++] = '/';
    memcpy(out + o, decoded + s, seglen);
    o += seglen;
  }
  /* A trailing slash is kept: "acme/" names the directory, and prefix rules end in '/'. */
  if (n > 0 && decoded[n - 1] == '/' && o > (size_t)absolute && o + 2 <= outlen) out[o++] = '/';
  out[o] = '\0';
  return 0;
}
