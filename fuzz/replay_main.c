/*
 * replay_main.c — runs a fuzz target over a corpus without libFuzzer, so the
 * suite replays every corpus under gcc, ASan and UBSan. Arguments are files
 * or directories (read one level deep). Each input also runs truncated at
 * every length up to 64 bytes and at a few cut points, which catches the
 * commonest bounds slips without a fuzzer.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return 1;
  }
  uint8_t *data = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 65536;
      uint8_t *p = realloc(data, cap);
      if (p == NULL) {
        free(data);
        fclose(f);
        return 1;
      }
      data = p;
    }
    size_t n = fread(data + len, 1, cap - len, f);
    if (n == 0)
      break;
    len += n;
  }
  fclose(f);
  /* Each run gets an exact-size copy so ASan sees reads past the end. */
  size_t cuts[] = {len, len / 2, len / 3, len > 1 ? len - 1 : 0};
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
    uint8_t *copy = malloc(cuts[i] ? cuts[i] : 1);
    memcpy(copy, data, cuts[i]);
    LLVMFuzzerTestOneInput(copy, cuts[i]);
    free(copy);
  }
  for (size_t cut = 0; cut < 64 && cut < len; cut++) {
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, data, cut);
    LLVMFuzzerTestOneInput(copy, cut);
    free(copy);
  }
  free(data);
  return 0;
}

int main(int argc, char **argv) {
  int files = 0, failures = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: no such corpus %s\n", argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      failures += run_file(argv[i]);
      files++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      char path[4096];
      snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
      failures += run_file(path);
      files++;
    }
    if (d)
      closedir(d);
  }
  printf("replayed %d inputs\n", files);
  if (files == 0) {
    fprintf(stderr, "replay: empty corpus\n");
    return 1;
  }
  return failures ? 1 : 0;
}
