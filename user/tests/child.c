/* Does nothing and exits 7: what the lifecycle and spawn tests start. */
int main(void) { return 7; }
