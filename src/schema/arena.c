/*
 * A bump allocator for the compiled schema graph: many small allocations made while
 * compiling, all freed together with the schema.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "schema/internal.h"

#define BLOCK_SIZE 8192

struct sg__arena_block {
  sg__arena_block_t *next;
  size_t used, cap;
  alignas(max_align_t) unsigned char data[];
};

void *sg__arena_alloc(sg__arena_t *a, size_t n) {
  const size_t align = alignof(max_align_t);
  n = (n + align - 1) & ~(align - 1);
  if (n == 0) n = align;
  sg__arena_block_t *b = a->head;
  if (b == NULL || b->cap - b->used < n) {
    size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;
    b = malloc(sizeof *b + cap);
    if (b == NULL) return NULL;
    b->used = 0;
    b->cap = cap;
    b->next = a->head;
    a->head = b;
  }
  void *p = b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

char *sg__arena_strndup(sg__arena_t *a, const char *s, size_t n) {
  char *p = sg__arena_alloc(a, n + 1);
  if (p == NULL) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void sg__arena_free(sg__arena_t *a) {
  while (a->head) {
    sg__arena_block_t *next = a->head->next;
    free(a->head);
    a->head = next;
  }
}
