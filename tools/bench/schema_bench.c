/*
 * Measures this project's JSON Schema validator: for each case of a cases file (see
 * schema-cases.json), the time one sg_schema_validate call takes on the case's valid
 * instance and on its invalid one, with the error filled in as the gateway asks for it.
 * Schemas are compiled and instances parsed beforehand: only validation is timed.
 * tools/bench/schema_bench.mjs measures ajv on the same file; schema-bench.sh runs both.
 *
 *   schema_bench CASES.json [ROUNDS]
 *
 * Prints one line per case and instance: "CASE valid|invalid NS" (the mean time per call in
 * nanoseconds in the fastest of ROUNDS rounds of about 20 ms, 15 by default). Exits 1 when a
 * "valid" instance is refused or an "invalid" one accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/schema.h"

#define ROUND_NS 20000000.0 /* each round lasts about 20 ms */

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Keeps the compiler from dropping the calls whose results nothing else reads. */
static volatile int sink;

/* Runs n validations; returns how many found the instance valid. */
static long run(const sg_schema_t *s, json_t *inst, long n) {
  sg_schema_error_t err;
  long ok = 0;
  for (long i = 0; i < n; i++) ok += sg_schema_validate(s, inst, &err) == 0;
  sink = err.message[0];
  return ok;
}

/* The fastest round's mean nanoseconds per validation: other work on the machine only
   ever adds time, so the fastest round is the one it disturbed least. */
static double measure(const sg_schema_t *s, json_t *inst, int rounds) {
  long n = 1;
  for (;;) { /* calibrate: enough calls for one round (and warm the caches) */
    double t0 = now_ns();
    run(s, inst, n);
    double dt = now_ns() - t0;
    if (dt > ROUND_NS / 4) {
      n = (long)((double)n * ROUND_NS / dt) + 1;
      break;
    }
    n *= 2;
  }
  double *per = calloc((size_t)rounds, sizeof *per);
  for (int r = 0; r < rounds; r++) {
    double t0 = now_ns();
    run(s, inst, n);
    per[r] = (now_ns() - t0) / (double)n;
  }
  qsort(per, (size_t)rounds, sizeof *per, cmp_double);
  double best = per[0];
  free(per);
  return best;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: schema_bench CASES.json [ROUNDS]\n");
    return 2;
  }
  int rounds = argc == 3 ? atoi(argv[2]) : 15;
  if (rounds < 1) rounds = 1;
  json_error_t jerr;
  json_t *file = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &jerr);
  json_t *cases = json_object_get(file, "cases");
  if (!json_is_array(cases)) {
    fprintf(stderr, "schema_bench: %s: %s\n", argv[1], file ? "no \"cases\" array" : jerr.text);
    return 2;
  }
  int status = 0;
  size_t i;
  json_t *c;
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    sg_schema_t *s = NULL;
    sg_schema_error_t err;
    if (sg_schema_compile(json_object_get(c, "schema"), NULL, &s, &err) != 0) {
      fprintf(stderr, "schema_bench: %s: schema does not compile: %s at %s\n", name, err.message,
              err.keyword_location);
      status = 1;
      continue;
    }
    static const char *const kinds[] = {"valid", "invalid"};
    for (int k = 0; k < 2; k++) {
      json_t *inst = json_object_get(c, kinds[k]);
      if (inst == NULL) continue;
      int valid = sg_schema_validate(s, inst, &err) == 0;
      if (valid != (k == 0)) {
        fprintf(stderr, "schema_bench: %s: the %s instance is %s (%s at %s)\n", name, kinds[k],
                valid ? "valid" : "invalid", err.message, err.keyword_location);
        status = 1;
        continue;
      }
      if (k == 1 && getenv("SCHEMA_BENCH_SHOW_ERRORS"))
        fprintf(stderr, "%s: %s: %s (%s)\n", name, err.instance_location, err.message,
                err.keyword_location);
      printf("%s %s %.1f\n", name, kinds[k], measure(s, inst, rounds));
      fflush(stdout);
    }
    sg_schema_free(s);
  }
  json_decref(file);
  sg_schema_thread_cleanup();
  return status;
}
