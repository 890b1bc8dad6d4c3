/* sh: the interactive shell on the serial console. C, not Embedded Swift: it is a
 * plain user program like the apps it starts, and it is built on the C clients of the
 * registry and the filesystem (ulib/libc) that C apps use too.
 *
 * Handles from init: 1 the registry, 2 the console (read, manage). Commands:
 *   ls [DIR]  cat FILE...  echo WORDS [> FILE]  mkdir DIR  rm PATH
 *   run PATH [ARGS]  NAME [ARGS] (found in /bin, then /pkg/<package>/bin)
 *   help  exit [CODE]  halt
 * `$?` is the last command's status: a program's exit code, 128 + the reason number
 * if it did not exit by itself (130 for Ctrl-C's kill), 1 for a failed builtin.
 * Paths not starting with '/' are taken from the root. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <apus/syscall.h>
#include <fs_client.h>
#include <registry.h>

#define CONSOLE ((apus_handle_t)2)
#define MAX_WORDS 32

static struct fs_client fs;

static int number(const char *text) {
  int sign = 1, value = 0;
  if (*text == '-') { sign = -1; text++; }
  while (*text >= '0' && *text <= '9') value = value * 10 + (*text++ - '0');
  return sign * value;
}
static int have_fs;
static int last_status;

static void absolute(const char *path, char *out, size_t size) {
  if (path[0] == '/') snprintf(out, size, "%s", path);
  else snprintf(out, size, "/%s", path);
}

static int fs_failed(const char *command, const char *path, int64_t status) {
  printf("%s: %s: %s\n", command, path, fs_status_name(status));
  return 1;
}

/* Output of a builtin: the console, or a file with `>`. */
struct output { uint64_t file; uint64_t offset; int to_file; };

static void emit(struct output *out, const char *text, size_t length) {
  if (!out->to_file) {
    apus_debug_write((const uint8_t *)text, length);
    return;
  }
  fs_write(&fs, out->file, out->offset, text, length);
  out->offset += length;
}

static void list_one(void *context, const char *name, uint32_t kind, uint64_t inode) {
  (void)inode;
  struct output *out = context;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return;
  char line[300];
  int length = snprintf(line, sizeof line, "%s%s\n", name, kind == APUS_FS_FILE_KIND_DIRECTORY ? "/" : "");
  emit(out, line, (size_t)length);
}

static int cmd_ls(int argc, char **argv, struct output *out) {
  char path[1024];
  absolute(argc > 1 ? argv[1] : "/", path, sizeof path);
  int64_t status = fs_list(&fs, path, list_one, out);
  return status == 0 ? 0 : fs_failed("ls", path, status);
}

static int cmd_cat(int argc, char **argv, struct output *out) {
  static char chunk[16384];
  int failed = 0;
  for (int i = 1; i < argc; i++) {
    char path[1024];
    absolute(argv[i], path, sizeof path);
    uint64_t file, size;
    uint32_t kind;
    int64_t status = fs_open(&fs, path, APUS_FS_OPEN_FLAGS_READ, 0, &file, &size, &kind);
    if (status == 0 && kind == APUS_FS_FILE_KIND_DIRECTORY) status = APUS_FS_STATUS_IS_DIRECTORY;
    if (status != 0) {
      failed = fs_failed("cat", path, status);
      if (status == APUS_FS_STATUS_IS_DIRECTORY) fs_close(&fs, file);
      continue;
    }
    for (uint64_t at = 0; at < size;) {
      uint64_t count = 0;
      status = fs_read(&fs, file, at, chunk, sizeof chunk, &count);
      if (status != 0 || count == 0) break;
      emit(out, chunk, count);
      at += count;
    }
    if (status != 0) failed = fs_failed("cat", path, status);
    fs_close(&fs, file);
  }
  return failed;
}

static int cmd_echo(int argc, char **argv, struct output *out) {
  for (int i = 1; i < argc; i++) {
    emit(out, argv[i], strlen(argv[i]));
    if (i + 1 < argc) emit(out, " ", 1);
  }
  emit(out, "\n", 1);
  return 0;
}

static int cmd_mkdir(int argc, char **argv) {
  if (argc < 2) { printf("mkdir: which directory?\n"); return 1; }
  char path[1024];
  absolute(argv[1], path, sizeof path);
  int64_t status = fs_mkdir(&fs, path, 0755);
  return status == 0 ? 0 : fs_failed("mkdir", path, status);
}

static int cmd_rm(int argc, char **argv) {
  if (argc < 2) { printf("rm: which file?\n"); return 1; }
  char path[1024];
  absolute(argv[1], path, sizeof path);
  int64_t status = fs_unlink(&fs, path);
  return status == 0 ? 0 : fs_failed("rm", path, status);
}

/* Starts the program at `path` with argv = words, in the foreground; waits. */
static int run_program(const char *path, int argc, char **argv) {
  char args[1024];
  size_t length = 0;
  for (int i = 0; i < argc; i++) {
    size_t word = strlen(argv[i]) + 1;
    if (length + word > sizeof args) { printf("sh: arguments too long\n"); return 1; }
    memcpy(args + length, i == 0 ? path : argv[i], i == 0 ? strlen(path) + 1 : word);
    length += i == 0 ? strlen(path) + 1 : word;
  }
  struct apus_handle_grant grants[2] = {
    {REGISTRY_HANDLE, APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER},
    {CONSOLE, APUS_RIGHT_READ},
  };
  int64_t child = fs_spawn(&fs, path, args, length, grants, 2);
  if (child <= -1000) return fs_failed("run", path, -child - 1000);
  if (apus_is_error(child)) {
    printf("run: %s: %s\n", path, child == -(int64_t)APUS_ERR_BAD_IMAGE ? "not a program" : "cannot start");
    return 1;
  }
  apus_console_foreground(CONSOLE, (apus_handle_t)child);
  struct apus_process_status status;
  int64_t waited = apus_process_wait((apus_handle_t)child, &status);
  apus_handle_close((apus_handle_t)child);
  if (apus_is_error(waited)) return 1;
  if (status.reason == APUS_EXIT_REASON_EXITED) return (int)status.code;
  if (status.reason != APUS_EXIT_REASON_KILLED) printf("sh: %s died (reason %u)\n", path, status.reason);
  return 128 + (int)status.reason;
}

static void find_in_pkg(void *context, const char *name, uint32_t kind, uint64_t inode) {
  (void)inode;
  char **found = context;
  if (found[1][0] || kind != APUS_FS_FILE_KIND_DIRECTORY || name[0] == '.') return;
  char path[1024];
  snprintf(path, sizeof path, "/pkg/%s/bin/%s", name, found[0]);
  struct apus_fs_stat_reply stat;
  if (fs_stat(&fs, path, &stat) == 0 && stat.kind == APUS_FS_FILE_KIND_REGULAR) snprintf(found[1], 1024, "%s", path);
}

/* A bare name: /bin/NAME, then /pkg/<any>/bin/NAME. */
static int find_program(const char *name, char *path, size_t size) {
  struct apus_fs_stat_reply stat;
  snprintf(path, size, "/bin/%s", name);
  if (fs_stat(&fs, path, &stat) == 0 && stat.kind == APUS_FS_FILE_KIND_REGULAR) return 1;
  static char found_path[1024];
  found_path[0] = 0;
  char *context[2] = {(char *)name, found_path};
  fs_list(&fs, "/pkg", find_in_pkg, context);
  if (!found_path[0]) return 0;
  snprintf(path, size, "%s", found_path);
  return 1;
}

static void help(void) {
  printf("commands: ls [DIR], cat FILE..., echo WORDS [> FILE], mkdir DIR, rm PATH,\n"
         "          run PATH [ARGS], NAME [ARGS] (from /bin or /pkg/*/bin), help, exit [CODE], halt\n"
         "$? is the last command's status; Ctrl-C ends the running program, Ctrl-D ends the shell.\n");
}

/* Splits `line` into words (spaces and tabs), expanding $?; returns the count. */
static int split(char *line, char **words, char *storage, size_t storage_size) {
  int count = 0;
  size_t used = 0;
  char *at = line;
  while (*at && count < MAX_WORDS) {
    while (*at == ' ' || *at == '\t') at++;
    if (!*at) break;
    char *start = at;
    while (*at && *at != ' ' && *at != '\t') at++;
    if (*at) *at++ = 0;
    if (strcmp(start, "$?") == 0) {
      int length = snprintf(storage + used, storage_size - used, "%d", last_status);
      words[count++] = storage + used;
      used += (size_t)length + 1;
    } else {
      words[count++] = start;
    }
  }
  return count;
}

/* Runs one line; returns 0 to go on, 1 to leave the shell. */
static int execute(char *line, int *leave_code) {
  char *words[MAX_WORDS];
  char storage[64];
  int argc = split(line, words, storage, sizeof storage);
  if (argc == 0) return 0;
  /* `> FILE` at the end redirects a builtin's output. */
  struct output out = {0, 0, 0};
  if (argc >= 3 && strcmp(words[argc - 2], ">") == 0) {
    char path[1024];
    absolute(words[argc - 1], path, sizeof path);
    int64_t status = fs_open(&fs, path, APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE | APUS_FS_OPEN_FLAGS_TRUNCATE,
                             0644, &out.file, NULL, NULL);
    if (status != 0) {
      last_status = fs_failed("sh", path, status);
      return 0;
    }
    out.to_file = 1;
    argc -= 2;
  }
  const char *command = words[0];
  int status;
  if (strcmp(command, "help") == 0) { help(); status = 0; }
  else if (strcmp(command, "ls") == 0) status = cmd_ls(argc, words, &out);
  else if (strcmp(command, "cat") == 0) status = cmd_cat(argc, words, &out);
  else if (strcmp(command, "echo") == 0) status = cmd_echo(argc, words, &out);
  else if (strcmp(command, "mkdir") == 0) status = cmd_mkdir(argc, words);
  else if (strcmp(command, "rm") == 0) status = cmd_rm(argc, words);
  else if (strcmp(command, "exit") == 0) { *leave_code = argc > 1 ? number(words[1]) : last_status; status = 0; }
  else if (strcmp(command, "halt") == 0) {
    int64_t synced = fs_sync(&fs);
    printf("sh: halting (filesystem %s)\n", synced == 0 ? "synced" : "NOT synced");
    *leave_code = synced == 0 ? 0 : 1;
    status = 0;
  } else if (strcmp(command, "run") == 0) {
    if (argc < 2) { printf("run: which program?\n"); status = 1; }
    else {
      char path[1024];
      absolute(words[1], path, sizeof path);
      status = run_program(path, argc - 1, words + 1);
    }
  } else {
    char path[1024];
    if (find_program(command, path, sizeof path)) status = run_program(path, argc, words);
    else { printf("sh: %s: command not found (try help)\n", command); status = 127; }
  }
  if (out.to_file) fs_close(&fs, out.file);
  last_status = status;
  return strcmp(command, "exit") == 0 || strcmp(command, "halt") == 0;
}

int main(void) {
  int64_t connected = fs_connect(&fs, 64 << 10);
  have_fs = connected == 0;
  if (!have_fs) {
    printf("sh: no filesystem (%ld)\n", connected);
    return 1;
  }
  printf("Apus shell. Type help for the commands.\n");
  char line[256];
  int leave_code = 0;
  for (;;) {
    apus_debug_write((const uint8_t *)"apus$ ", 6);
    int64_t got = apus_console_read(CONSOLE, (uint8_t *)line, sizeof line - 1);
    if (got <= 0) {
      printf("\n");
      fs_sync(&fs);
      return 0; /* Ctrl-D (or the console is gone) */
    }
    line[got] = 0;
    if (got > 0 && line[got - 1] == '\n') line[got - 1] = 0;
    if (execute(line, &leave_code)) return leave_code;
  }
}
