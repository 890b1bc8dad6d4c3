/* From _start to main: splits the kernel's argument block (NUL-separated strings)
 * into argv, runs main, and exits with its result. */
#include <stdint.h>
#include <stdlib.h>
#include <apus/syscall.h>

int main(int argc, char **argv);

#define MAX_ARGS 32

_Noreturn void __libc_start(const char *block, uint64_t length) {
  static char *argv[MAX_ARGS + 1];
  int argc = 0;
  uint64_t i = 0;
  while (i < length && argc < MAX_ARGS) {
    argv[argc++] = (char *)&block[i];
    while (i < length && block[i]) i++;
    i++;  /* past the NUL */
  }
  argv[argc] = 0;
  exit(main(argc, argv));
}

_Noreturn void exit(int code) {
  apus_process_exit(code);
}

/* The stack protector, for code built with it (Embedded Swift is). A fixed guard is
 * weak against an attacker but still catches accidental overruns. */
uintptr_t __stack_chk_guard = 0x595e9fbd94fda766ull;

_Noreturn void __stack_chk_fail(void) {
  static const char message[] = "user: stack protector fired; exiting\n";
  apus_debug_write((const uint8_t *)message, sizeof message - 1);
  apus_process_exit(134);
}
