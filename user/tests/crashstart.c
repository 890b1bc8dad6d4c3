/* tests/crashstart: a server that dies before it ever serves (a write through a null
 * pointer), every time: init's supervisor must give it up and say so, and the
 * system stay up (tests/supervisor/test_supervisor.py). */
int main(void) {
  *(volatile int *)0 = 1;
  return 0;
}
