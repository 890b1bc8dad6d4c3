/* tests/crashstart: a server that never serves (tests/supervisor/test_supervisor.py).
 * By default it dies before it serves (a write through a null pointer), every time:
 * init's supervisor must give it up, say so, try again later, and the system stay up.
 * With "refuse" (init=service=tests/crashstart,refuse) it exits with code 2, as fsd
 * does when its disk does not mount: the supervisor must not start it again. */
#include <string.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "refuse") == 0) return 2;
  *(volatile int *)0 = 1;
  return 0;
}
