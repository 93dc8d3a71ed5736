/*
 * What the CLI's readers of the database share: text from the database made safe for a
 * terminal or for JSON (it holds what clients chose: tool names, arguments, error
 * details), small tables for people, and the defaults for --db and for who is acting.
 *
 * Ownership: sg__cli_clean returns a string the caller frees; a table owns the copies of
 * its cells until sg__cli_table_free.
 */
#ifndef SG_CLI_TEXT_H
#define SG_CLI_TEXT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#define SG_CLI_DEFAULT_DB "var/scopegate.db"

/* A copy of s (NULL gives "-" in a table, "" otherwise) that is valid UTF-8: invalid
 * bytes become U+FFFD, and for a table (table != 0) control characters (C0, DEL, C1)
 * become '?'. *width (may be NULL) receives the number of characters. NULL when out of
 * memory. */
char *sg__cli_clean(const char *s, int table, size_t *width);

/* Sets key in obj to s, or to null when s is NULL; text that is not valid UTF-8 is
 * cleaned first. Returns 0, or -1 when out of memory. */
int sg__cli_json_set_str(json_t *obj, const char *key, const char *s);

/* Prints obj as one line of JSON (ASCII only, so nothing can drive a terminal) and
 * releases it. Returns 0, or -1 when obj is NULL or cannot be printed. */
int sg__cli_json_line(json_t *obj);

/* The database: given (from --db), else $SCOPEGATE_DB, else SG_CLI_DEFAULT_DB. */
const char *sg__cli_db(const char *given);

/* Who a person at this terminal is: "local:" and the login name. */
void sg__cli_local_actor(char *out, size_t len);

/* A table printed with its columns aligned. */
#define SG_CLI_TABLE_MAX_COLS 16
typedef struct {
  int ncols;
  const char *const *headers;
  char **cells; /* nrows * ncols */
  size_t *widths;
  size_t nrows, cap;
  size_t colw[SG_CLI_TABLE_MAX_COLS];
  int failed; /* out of memory: the table is incomplete */
} sg__cli_table_t;

void sg__cli_table_init(sg__cli_table_t *t, int ncols, const char *const *headers);
/* Adds a row of ncols cells (NULL shows as "-"), cleaned for a terminal. */
void sg__cli_table_add(sg__cli_table_t *t, const char *const *cells);
void sg__cli_table_print(const sg__cli_table_t *t, FILE *out);
void sg__cli_table_free(sg__cli_table_t *t);

#endif
