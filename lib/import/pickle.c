/* The pickle machine of pickle.h. The opcode meanings are those of CPython's Lib/pickletools.py. */
#include "import/pickle.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK_MAX_STACK (1u << 20) /* values on the stack, marks, memo entries: far beyond any model */
#define PK_MAX_MEMO (1u << 24)
#define PK_MAX_VALUES (1u << 26)

typedef struct {
  pk_arena *arena;
  const unsigned char *buf;
  size_t size, pos, op_at; /* op_at: the offset of the opcode being run, for messages */
  const char *path;
  pk_value **stack;
  size_t sp, stack_cap;
  size_t *marks;
  size_t nmarks, marks_cap;
  pk_value **memo;
  size_t memo_cap, memo_n; /* memo_n: entries stored (MEMOIZE's next index) */
} pk_machine;

static scl_status bad(pk_machine *m, const char *what) {
  return scl__fail_noctx(SCL_ERR_FORMAT, "%s: pickle opcode 0x%02x at byte %zu: %s", m->path, m->buf[m->op_at],
                         m->op_at, what);
}

static pk_value *new_value(pk_machine *m, pk_kind kind) {
  if (m->arena->count >= PK_MAX_VALUES) return NULL;
  pk_value *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  v->kind = kind;
  v->next = m->arena->all;
  m->arena->all = v;
  m->arena->count++;
  return v;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t limit) {
  if (need <= *cap) return 1;
  if (need > limit) return 0;
  size_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  if (c > limit) c = limit;
  void *q = realloc(*p, c * elem);
  if (!q) return 0;
  *p = q, *cap = c;
  return 1;
}

static int add_item(pk_value *v, pk_value *item) {
  if (!grow((void **)&v->items, &v->cap, v->n + 1, sizeof *v->items, (size_t)PK_MAX_VALUES)) return 0;
  v->items[v->n++] = item;
  return 1;
}

static scl_status push(pk_machine *m, pk_value *v) {
  if (!v) return bad(m, "out of memory or too many values");
  if (!grow((void **)&m->stack, &m->stack_cap, m->sp + 1, sizeof *m->stack, PK_MAX_STACK))
    return bad(m, "the stack grows beyond any model file's");
  m->stack[m->sp++] = v;
  return SCL_OK;
}

static pk_value *pop(pk_machine *m) {
  size_t floor = m->nmarks ? m->marks[m->nmarks - 1] : 0;
  return m->sp > floor ? m->stack[--m->sp] : NULL;
}

static pk_value *top(pk_machine *m) {
  size_t floor = m->nmarks ? m->marks[m->nmarks - 1] : 0;
  return m->sp > floor ? m->stack[m->sp - 1] : NULL;
}

/* Reads n bytes of argument; NULL when the file ends first. */
static const unsigned char *take(pk_machine *m, size_t n) {
  if (n > m->size - m->pos) return NULL;
  const unsigned char *p = m->buf + m->pos;
  m->pos += n;
  return p;
}

static scl_status push_int(pk_machine *m, long long i) {
  pk_value *v = new_value(m, PK_INT);
  if (v) v->i = i, v->fits = 1;
  return push(m, v);
}

/* STR/BYTES of n bytes that follow. */
static scl_status push_text(pk_machine *m, pk_kind kind, size_t n) {
  const unsigned char *p = take(m, n);
  if (!p) return bad(m, "a string runs past the end of the file");
  pk_value *v = new_value(m, kind);
  if (!v || !(v->str = malloc(n + 1))) return bad(m, "out of memory");
  memcpy(v->str, p, n);
  v->str[n] = 0;
  v->len = n;
  return push(m, v);
}

/* LONG1: n bytes, little-endian two's complement. */
static scl_status push_long(pk_machine *m, size_t n) {
  const unsigned char *p = take(m, n);
  if (!p) return bad(m, "a long integer runs past the end of the file");
  pk_value *v = new_value(m, PK_INT);
  if (!v || !(v->str = malloc(n + 1))) return bad(m, "out of memory");
  memcpy(v->str, p, n);
  v->len = n;
  if (n <= 8) {
    uint64_t u = scl__le(p, (int)n);
    if (n > 0 && n < 8 && (p[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    v->i = (long long)u, v->fits = 1;
  }
  return push(m, v);
}

/* The items above the topmost mark, which is removed. */
static scl_status pop_mark(pk_machine *m, size_t *from) {
  if (!m->nmarks) return bad(m, "no MARK to collect items from");
  *from = m->marks[--m->nmarks];
  return SCL_OK;
}

static scl_status collect(pk_machine *m, pk_kind kind, size_t from) {
  pk_value *v = new_value(m, kind);
  if (!v) return bad(m, "out of memory");
  for (size_t i = from; i < m->sp; i++)
    if (!add_item(v, m->stack[i])) return bad(m, "out of memory");
  m->sp = from;
  return push(m, v);
}

static scl_status tuple_of(pk_machine *m, int n) {
  size_t floor = m->nmarks ? m->marks[m->nmarks - 1] : 0;
  if (m->sp - floor < (size_t)n) return bad(m, "too few values on the stack for a tuple");
  return collect(m, PK_TUPLE, m->sp - (size_t)n);
}

static scl_status memo_put(pk_machine *m, uint64_t index) {
  pk_value *v = top(m);
  if (!v) return bad(m, "nothing on the stack to memoise");
  if (index >= PK_MAX_MEMO) return bad(m, "a memo index beyond any model file's");
  size_t old = m->memo_cap;
  if (!grow((void **)&m->memo, &m->memo_cap, (size_t)index + 1, sizeof *m->memo, PK_MAX_MEMO))
    return bad(m, "out of memory");
  for (size_t i = old; i < m->memo_cap; i++) m->memo[i] = NULL;
  if (!m->memo[index]) m->memo_n++;
  m->memo[index] = v;
  return SCL_OK;
}

static scl_status memo_get(pk_machine *m, uint64_t index) {
  if (index >= m->memo_cap || !m->memo[index]) return bad(m, "a memo entry that was never stored");
  return push(m, m->memo[index]);
}

/* A dict gets key/value pairs from stack[from..sp). */
static scl_status set_items(pk_machine *m, size_t from) {
  if ((m->sp - from) % 2) return bad(m, "an odd number of values for a dict's keys and values");
  pk_value *d = from > 0 ? m->stack[from - 1] : NULL;
  if (!d || d->kind != PK_DICT) return bad(m, "items set on something that is not a dict");
  for (size_t i = from; i < m->sp; i++)
    if (!add_item(d, m->stack[i])) return bad(m, "out of memory");
  m->sp = from;
  return SCL_OK;
}

static scl_status append_items(pk_machine *m, size_t from) {
  pk_value *l = from > 0 ? m->stack[from - 1] : NULL;
  if (!l || l->kind != PK_LIST) return bad(m, "items appended to something that is not a list");
  for (size_t i = from; i < m->sp; i++)
    if (!add_item(l, m->stack[i])) return bad(m, "out of memory");
  m->sp = from;
  return SCL_OK;
}

/* A text line of GLOBAL, without its newline. */
static char *line(pk_machine *m) {
  const unsigned char *start = m->buf + m->pos, *nl = memchr(start, '\n', m->size - m->pos);
  if (!nl || nl - start > 256) return NULL;
  size_t n = (size_t)(nl - start);
  char *s = malloc(n + 1);
  if (!s) return NULL;
  memcpy(s, start, n);
  s[n] = 0;
  m->pos += n + 1;
  return s;
}

static scl_status call(pk_machine *m) {
  pk_value *args = pop(m), *fn = pop(m);
  if (!args || !fn) return bad(m, "too few values on the stack for a call");
  if (scl__pk_is_global(fn, "collections", "OrderedDict") && args->kind == PK_TUPLE && args->n == 0)
    return push(m, new_value(m, PK_DICT));
  pk_value *v = new_value(m, PK_CALL);
  if (!v || !add_item(v, fn) || !add_item(v, args)) return bad(m, "out of memory");
  return push(m, v);
}

static scl_status step(pk_machine *m, int *stop) {
  m->op_at = m->pos;
  const unsigned char *a;
  unsigned char op = m->buf[m->pos++];
  size_t from = 0;
  scl_status st;
  switch (op) {
  case 0x80: /* PROTO */
    if (!(a = take(m, 1)) || a[0] > 5) return bad(m, "an unknown pickle protocol");
    return SCL_OK;
  case 0x95: /* FRAME: a length hint only */
    return take(m, 8) ? SCL_OK : bad(m, "a frame header runs past the end of the file");
  case '.': /* STOP */
    *stop = 1;
    return SCL_OK;
  case '(': /* MARK */
    if (!grow((void **)&m->marks, &m->marks_cap, m->nmarks + 1, sizeof *m->marks, PK_MAX_STACK))
      return bad(m, "too many marks");
    m->marks[m->nmarks++] = m->sp;
    return SCL_OK;
  case 'N': return push(m, new_value(m, PK_NONE));
  case 0x88: case 0x89: { /* NEWTRUE, NEWFALSE */
    pk_value *v = new_value(m, PK_BOOL);
    if (v) v->i = op == 0x88, v->fits = 1;
    return push(m, v);
  }
  case ')': return push(m, new_value(m, PK_TUPLE));
  case ']': return push(m, new_value(m, PK_LIST));
  case '}': return push(m, new_value(m, PK_DICT));
  case 'J': /* BININT */
    if (!(a = take(m, 4))) return bad(m, "an integer runs past the end of the file");
    return push_int(m, (long long)(int32_t)(uint32_t)scl__le(a, 4));
  case 'K': /* BININT1 */
    if (!(a = take(m, 1))) return bad(m, "an integer runs past the end of the file");
    return push_int(m, a[0]);
  case 'M': /* BININT2 */
    if (!(a = take(m, 2))) return bad(m, "an integer runs past the end of the file");
    return push_int(m, (long long)scl__le(a, 2));
  case 0x8a: /* LONG1 */
    if (!(a = take(m, 1))) return bad(m, "a long integer runs past the end of the file");
    return push_long(m, a[0]);
  case 'G': { /* BINFLOAT: big-endian binary64 */
    if (!(a = take(m, 8))) return bad(m, "a float runs past the end of the file");
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u = u << 8 | a[i];
    pk_value *v = new_value(m, PK_FLOAT);
    if (v) memcpy(&v->f, &u, 8);
    return push(m, v);
  }
  case 'X': case 'T': case 'B': /* BINUNICODE, BINSTRING, BINBYTES: 4-byte length */
    if (!(a = take(m, 4))) return bad(m, "a string length runs past the end of the file");
    return push_text(m, op == 'B' ? PK_BYTES : PK_STR, (size_t)scl__le(a, 4));
  case 0x8c: case 'U': case 'C': /* SHORT_BINUNICODE, SHORT_BINSTRING, SHORT_BINBYTES */
    if (!(a = take(m, 1))) return bad(m, "a string length runs past the end of the file");
    return push_text(m, op == 'C' ? PK_BYTES : PK_STR, a[0]);
  case 'c': { /* GLOBAL: "module\nname\n" */
    pk_value *v = new_value(m, PK_GLOBAL);
    if (!v) return bad(m, "out of memory");
    if (!(v->str = line(m)) || !(v->str2 = line(m))) return bad(m, "a GLOBAL without its two lines");
    return push(m, v);
  }
  case 0x93: { /* STACK_GLOBAL */
    pk_value *name = pop(m), *module = pop(m);
    if (!name || !module || name->kind != PK_STR || module->kind != PK_STR) return bad(m, "STACK_GLOBAL needs two strings");
    pk_value *v = new_value(m, PK_GLOBAL);
    if (!v || !(v->str = strdup(module->str)) || !(v->str2 = strdup(name->str))) return bad(m, "out of memory");
    return push(m, v);
  }
  case 't': case 'l': case 'd': /* TUPLE, LIST, DICT from the mark */
    if ((st = pop_mark(m, &from)) != SCL_OK) return st;
    if (op != 'd') return collect(m, op == 't' ? PK_TUPLE : PK_LIST, from);
    if ((m->sp - from) % 2) return bad(m, "an odd number of values for a dict's keys and values");
    return collect(m, PK_DICT, from);
  case 0x85: return tuple_of(m, 1);
  case 0x86: return tuple_of(m, 2);
  case 0x87: return tuple_of(m, 3);
  case 'a': /* APPEND */
    if (m->sp - (m->nmarks ? m->marks[m->nmarks - 1] : 0) < 2) return bad(m, "APPEND needs a list and a value");
    return append_items(m, m->sp - 1);
  case 'e': /* APPENDS */
    if ((st = pop_mark(m, &from)) != SCL_OK) return st;
    return append_items(m, from);
  case 's': /* SETITEM */
    if (m->sp - (m->nmarks ? m->marks[m->nmarks - 1] : 0) < 3) return bad(m, "SETITEM needs a dict, a key and a value");
    return set_items(m, m->sp - 2);
  case 'u': /* SETITEMS */
    if ((st = pop_mark(m, &from)) != SCL_OK) return st;
    return set_items(m, from);
  case 'q': /* BINPUT */
    if (!(a = take(m, 1))) return bad(m, "a memo index runs past the end of the file");
    return memo_put(m, a[0]);
  case 'r': /* LONG_BINPUT */
    if (!(a = take(m, 4))) return bad(m, "a memo index runs past the end of the file");
    return memo_put(m, scl__le(a, 4));
  case 0x94: /* MEMOIZE: the next free index */
    return memo_put(m, m->memo_n);
  case 'h': /* BINGET */
    if (!(a = take(m, 1))) return bad(m, "a memo index runs past the end of the file");
    return memo_get(m, a[0]);
  case 'j': /* LONG_BINGET */
    if (!(a = take(m, 4))) return bad(m, "a memo index runs past the end of the file");
    return memo_get(m, scl__le(a, 4));
  case 'R': case 0x81: /* REDUCE, NEWOBJ */
    return call(m);
  case 'b': /* BUILD: the state an object's __setstate__ would get; nothing spherecl reads */
    if (!pop(m) || !top(m)) return bad(m, "BUILD needs an object and its state");
    return SCL_OK;
  case 'Q': { /* BINPERSID */
    pk_value *id = pop(m), *v = new_value(m, PK_PERSID);
    if (!id) return bad(m, "BINPERSID needs an id on the stack");
    if (!v || !add_item(v, id)) return bad(m, "out of memory");
    return push(m, v);
  }
  case '0': /* POP */
    if (!pop(m)) return bad(m, "POP of an empty stack");
    return SCL_OK;
  default: return bad(m, "an opcode torch's legacy format does not use (or not a pickle at all)");
  }
}

scl_status scl__pickle_load(pk_arena *arena, const unsigned char *buf, size_t size, size_t *pos, const char *path,
                            pk_value **out) {
  pk_machine m = {arena, buf, size, *pos, *pos, path, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0};
  scl_status st = SCL_OK;
  int stop = 0;
  while (st == SCL_OK && !stop) {
    if (m.pos >= m.size) {
      st = scl__fail_noctx(SCL_ERR_FORMAT, "%s: the file ends at byte %zu inside a pickle (truncated)", path, m.pos);
      break;
    }
    st = step(&m, &stop);
  }
  if (st == SCL_OK && (m.sp != 1 || m.nmarks))
    st = scl__fail_noctx(SCL_ERR_FORMAT, "%s: the pickle ending at byte %zu leaves %zu values and %zu marks, not one value",
                         path, m.pos, m.sp, m.nmarks);
  if (st == SCL_OK) *out = m.stack[0], *pos = m.pos;
  free(m.stack), free(m.marks), free(m.memo);
  return st;
}

void scl__pickle_free(pk_arena *arena) {
  if (!arena) return;
  for (pk_value *v = arena->all, *next; v; v = next) {
    next = v->next;
    free(v->str), free(v->str2), free(v->items);
    free(v);
  }
  arena->all = NULL, arena->count = 0;
}

pk_value *scl__pk_dict_get(const pk_value *dict, const char *key) {
  if (!dict || dict->kind != PK_DICT) return NULL;
  for (size_t i = 0; i + 1 < dict->n; i += 2)
    if (dict->items[i]->kind == PK_STR && !strcmp(dict->items[i]->str, key)) return dict->items[i + 1];
  return NULL;
}

int scl__pk_is_global(const pk_value *v, const char *module, const char *name) {
  return v && v->kind == PK_GLOBAL && !strcmp(v->str, module) && !strcmp(v->str2, name);
}
