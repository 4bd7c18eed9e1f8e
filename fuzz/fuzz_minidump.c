/* fuzz_minidump.c — the minidump reader: parse every stream, read every
 * thread context and every byte of every memory range. */
#include <stdint.h>
#include <string.h>

#include "minidump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cw_md_t *md = NULL;
  char err[256];
  if (cw_md_open_buffer(data, size, &md, err, sizeof(err)) != 0)
    return 0;
  volatile size_t sink = strlen(cw_md_errors(md));
  for (size_t i = 0; i < cw_md_stream_count(md); i++) {
    size_t len;
    const uint8_t *p = cw_md_stream_data(md, cw_md_stream(md, i)->type, &len);
    if (p != NULL && len > 0)
      sink += p[0] + p[len - 1];
  }
  for (size_t i = 0; i < cw_md_thread_count(md); i++) {
    const cw_md_thread_t *t = cw_md_thread(md, i);
    if (t->name)
      sink += strlen(t->name);
    if (cw_md_thread_amd64(md, i, err, sizeof(err)) == NULL)
      sink += strlen(err);
  }
  for (size_t i = 0; i < cw_md_module_count(md); i++) {
    const cw_md_module_t *m = cw_md_module(md, i);
    sink += strlen(m->name) + strlen(m->code_id) + strlen(m->debug_id);
    sink += (size_t)cw_md_module_for_address(md, m->base + m->size / 2);
  }
  for (size_t i = 0; i < cw_md_memory_count(md); i++) {
    const cw_md_range_t *r = cw_md_memory(md, i);
    uint8_t buf[64];
    for (uint64_t off = 0; off < r->size; off += 61) {
      size_t n =
          r->size - off < sizeof(buf) ? (size_t)(r->size - off) : sizeof(buf);
      if (cw_md_read_memory(md, r->start + off, buf, n) == 0)
        sink += buf[0];
    }
  }
  const cw_md_dso_debug_t *d = cw_md_dso_debug(md);
  for (size_t i = 0; d && i < d->count; i++)
    sink += strlen(d->maps[i].name);
  const cw_md_crashpad_t *c = cw_md_crashpad_info(md);
  for (size_t i = 0; c && i < c->simple_count; i++)
    sink += strlen(c->simple[i].key) + strlen(c->simple[i].value);
  for (size_t i = 0; c && i < c->module_count; i++)
    for (size_t k = 0; k < c->modules[i].list_count; k++)
      sink += strlen(c->modules[i].list[k]);
  size_t nauxv;
  const cw_md_auxv_t *auxv = cw_md_auxv(md, &nauxv);
  for (size_t i = 0; i < nauxv; i++)
    sink += auxv[i].type;
  const cw_md_system_t *s = cw_md_system_info(md);
  if (s)
    sink += strlen(s->csd_version);
  (void)sink;
  cw_md_close(md);
  return 0;
}
