/* fuzz_minidump.c — the minidump reader: parse every stream, read every
 * thread context and every byte of every memory range. */
#include <stdint.h>
#include <string.h>

#include "minidump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cw__md_t *md = NULL;
  char err[256];
  if (cw__md_open_buffer(data, size, &md, err, sizeof(err)) != 0)
    return 0;
  volatile size_t sink = strlen(cw__md_errors(md));
  for (size_t i = 0; i < cw__md_stream_count(md); i++) {
    size_t len;
    const uint8_t *p = cw__md_stream_data(md, cw__md_stream(md, i)->type, &len);
    if (p != NULL && len > 0)
      sink += p[0] + p[len - 1];
  }
  for (size_t i = 0; i < cw__md_thread_count(md); i++) {
    const cw__md_thread_t *t = cw__md_thread(md, i);
    if (t->name)
      sink += strlen(t->name);
    if (cw__md_thread_amd64(md, i, err, sizeof(err)) == NULL)
      sink += strlen(err);
  }
  for (size_t i = 0; i < cw__md_module_count(md); i++) {
    const cw__md_module_t *m = cw__md_module(md, i);
    sink += strlen(m->name) + strlen(m->code_id) + strlen(m->debug_id);
    sink += (size_t)cw__md_module_for_address(md, m->base + m->size / 2);
  }
  for (size_t i = 0; i < cw__md_memory_count(md); i++) {
    const cw__md_range_t *r = cw__md_memory(md, i);
    uint8_t buf[64];
    for (uint64_t off = 0; off < r->size; off += 61) {
      size_t n =
          r->size - off < sizeof(buf) ? (size_t)(r->size - off) : sizeof(buf);
      if (cw__md_read_memory(md, r->start + off, buf, n) == 0)
        sink += buf[0];
    }
  }
  const cw__md_dso_debug_t *d = cw__md_dso_debug(md);
  for (size_t i = 0; d && i < d->count; i++)
    sink += strlen(d->maps[i].name);
  const cw__md_crashpad_t *c = cw__md_crashpad_info(md);
  for (size_t i = 0; c && i < c->simple_count; i++)
    sink += strlen(c->simple[i].key) + strlen(c->simple[i].value);
  for (size_t i = 0; c && i < c->module_count; i++)
    for (size_t k = 0; k < c->modules[i].list_count; k++)
      sink += strlen(c->modules[i].list[k]);
  size_t nauxv;
  const cw__md_auxv_t *auxv = cw__md_auxv(md, &nauxv);
  for (size_t i = 0; i < nauxv; i++)
    sink += auxv[i].type;
  const cw__md_system_t *s = cw__md_system_info(md);
  if (s)
    sink += strlen(s->csd_version);
  (void)sink;
  cw__md_close(md);
  return 0;
}
