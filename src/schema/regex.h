/*
 * Regular expressions for "pattern" and "patternProperties": ECMA-262 syntax, as JSON
 * Schema specifies, rewritten into PCRE2 syntax and compiled once in UTF mode. Matching
 * runs under match, depth and heap limits so that a hostile pattern cannot stall the
 * gateway; a match that hits a limit reports SG__RE_LIMIT and the caller fails closed.
 *
 * Patterns are JIT-compiled where PCRE2 supports it. The compiled code is owned by the
 * caller (pcre2_code_free). Matching uses a per-thread match-data block, match context and
 * JIT stack, created on a thread's first match and reused after.
 */
#ifndef SG_SCHEMA_REGEX_H
#define SG_SCHEMA_REGEX_H

#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

enum { SG__RE_NOMATCH = 0, SG__RE_MATCH = 1, SG__RE_LIMIT = -1 };

/* Limits applied to every match. */
#define SG__RE_MATCH_LIMIT 1000000
#define SG__RE_DEPTH_LIMIT 10000
#define SG__RE_HEAP_LIMIT_KIB 8192
/* The JIT's stack, which bounds its backtracking as the heap limit bounds the
   interpreter's. */
#define SG__RE_JIT_STACK_MAX (SG__RE_HEAP_LIMIT_KIB * 1024)

/* Rewrites the ECMA-262 pattern src (len bytes, UTF-8) into PCRE2 syntax; *out (caller
   frees) is NUL-terminated. Returns 0, SG_ENOMEM, or SG_EINVAL for syntax that has no
   PCRE2 equivalent (a lone surrogate escape). */
int sg__regex_translate(const char *src, size_t len, char **out, size_t *outlen);

/* Whether src avoids the syntax that PCRE2 accepts but ECMA-262 does not: (?P...) and
   (?#...) groups, inline flags, and letter escapes ECMA does not define. "pattern" is
   lenient about these (they have one clear meaning); the "regex" format is not. */
int sg__regex_strict(const char *src, size_t len);

/* Compiles an ECMA-262 pattern. On failure returns SG_ESCHEMA and writes a reason into
   msg. */
int sg__regex_compile(const char *src, size_t len, pcre2_code **out, char *msg, size_t msglen);

/* Searches s (valid UTF-8) for the pattern: SG__RE_MATCH, SG__RE_NOMATCH, or SG__RE_LIMIT
   when a limit was hit or matching could not run. */
int sg__regex_search(const pcre2_code *re, const char *s, size_t len);

/* The simplest patterns, matched without PCRE2: a sequence of single characters, "."
   and classes like [a-z0-9_-], \d, \w or \s, each with an optional quantifier, maybe
   anchored by "^" at the start and "$" at the end. They are turned into a small
   deterministic automaton over ASCII (one table lookup per subject byte), used for ASCII
   subjects of up to max_len bytes: short enough that PCRE2 could not have hit its match
   limits on them, so the answer is always the one PCRE2 gives. */
#define SG__SIMPLE_STATES 64
#define SG__SIMPLE_CLASSES 16
typedef struct {
  /* Bytes that every state treats alike share a class; when unknown is set, the bytes
     above 127 have a class of their own that leads every state to it. */
  unsigned char byte_class[256];
  /* A state is kept as the start of its row here (its number times SG__SIMPLE_CLASSES),
     so that a step is one addition and one lookup: next[state + class] is the next
     state's row. */
  uint16_t next[SG__SIMPLE_STATES * SG__SIMPLE_CLASSES];
  unsigned char accepting[SG__SIMPLE_STATES]; /* by state number */
  unsigned char dead[SG__SIMPLE_STATES];      /* no way on to a match */
  uint16_t start;                             /* a row, as in next */
  /* A state that nothing leaves, entered on a byte above 127: the subject is not ASCII
     and only PCRE2 can tell. SG__SIMPLE_STATES when there was no room for it. */
  unsigned char unknown;
  int anchored_end;
  size_t max_len;
} sg__simple_re_t;

/* Fills *out and returns 1 when the ECMA-262 pattern src (len bytes) is that simple; 0
   otherwise. */
int sg__regex_simple(const char *src, size_t len, sg__simple_re_t *out);

/* SG__RE_MATCH or SG__RE_NOMATCH; SG__RE_UNKNOWN when s is not ASCII or longer than
   max_len, and PCRE2 must answer. */
enum { SG__RE_UNKNOWN = -2 };
int sg__regex_simple_search(const sg__simple_re_t *re, const char *s, size_t len);

void sg__regex_thread_cleanup(void);

#endif
