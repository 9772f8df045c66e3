/* A Python pickle reader that builds values and runs nothing: the subset of opcodes (protocols 0-4,
   binary forms) that torch.save's legacy format uses. GLOBAL names stay names; REDUCE/NEWOBJ become
   PK_CALL records (callable, args) for the caller to interpret, except collections.OrderedDict(),
   which becomes a dict; BINPERSID becomes PK_PERSID around its id; BUILD's state is dropped. Every
   value lives in the arena and is freed with it (pickles may share values through the memo). */
#ifndef SPHERECL_PICKLE_H
#define SPHERECL_PICKLE_H

#include "internal.h"

typedef enum {
  PK_NONE, PK_BOOL, PK_INT, PK_FLOAT, PK_STR, PK_BYTES, /* scalars */
  PK_TUPLE, PK_LIST, PK_DICT,                           /* items (a dict: key, value, key, value, ...) */
  PK_GLOBAL,                                            /* str = module, str2 = name */
  PK_CALL,                                              /* items[0] callable, items[1] args */
  PK_PERSID                                             /* items[0] the persistent id */
} pk_kind;

typedef struct pk_value {
  pk_kind kind;
  long long i;      /* BOOL, INT (when it fits: big ints have fits = 0) */
  int fits;
  double f;         /* FLOAT */
  char *str, *str2; /* STR, BYTES (len bytes, NUL-terminated too), GLOBAL */
  size_t len;
  struct pk_value **items;
  size_t n, cap;
  struct pk_value *next; /* the arena's chain */
} pk_value;

typedef struct {
  pk_value *all;
  size_t count;
} pk_arena;

/* Reads one pickle from buf[*pos..size) up to its STOP, advancing *pos past it. The memo is per
   pickle. Errors are SCL_ERR_FORMAT naming path and the byte offset. */
scl_status scl__pickle_load(pk_arena *arena, const unsigned char *buf, size_t size, size_t *pos, const char *path,
                            pk_value **out);
void scl__pickle_free(pk_arena *arena);

/* Lookups for interpreting the result; NULL when absent or of another kind. */
pk_value *scl__pk_dict_get(const pk_value *dict, const char *key);
int scl__pk_is_global(const pk_value *v, const char *module, const char *name);

#endif
