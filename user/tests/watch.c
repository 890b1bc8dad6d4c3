/* process_watch (tests/supervisor/test_supervisor.py): a child's end is posted on an
 * endpoint as its key bit, after which process_wait does not wait; a process that
 * has ended already is posted at once; two watchers both hear; a fifth is refused;
 * bad keys, handles and rights are errors. */
#include "testlib.h"

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) {
    for (volatile int i = 0; i < 2000000; i++) {
    }
    return 7;
  }
  test_name = "WATCH";
  apus_handle_t events = (apus_handle_t)apus_endpoint_create();
  apus_handle_t writer = (apus_handle_t)apus_handle_duplicate(events, APUS_RIGHT_WRITE);
  apus_handle_t other = (apus_handle_t)apus_endpoint_create();
  apus_handle_t other_writer = (apus_handle_t)apus_handle_duplicate(other, APUS_RIGHT_WRITE);

  int64_t child = start_case_with("tests/watch", "child", NULL, 0);
  expect_true("start a child", !apus_is_error(child));
  expect_eq("watch it", apus_process_watch((apus_handle_t)child, writer, 5), 0);
  expect_eq("a second watcher", apus_process_watch((apus_handle_t)child, other_writer, 9), 0);
  expect_eq("its end is posted", (int64_t)wait_bits(events), 1 << 5);
  expect_eq("on both", (int64_t)wait_bits(other), 1 << 9);
  struct apus_process_status status;
  expect_eq("process_wait reports it", apus_process_wait((apus_handle_t)child, &status), 0);
  expect_true("how it ended", status.reason == APUS_EXIT_REASON_EXITED && status.code == 7);
  expect_eq("watching an ended process", apus_process_watch((apus_handle_t)child, writer, 6), 0);
  expect_eq("is posted at once", (int64_t)wait_bits(events), 1 << 6);
  apus_handle_close((apus_handle_t)child);

  child = start_case_with("tests/watch", "child", NULL, 0);
  for (uint32_t key = 0; key < 4; key++) expect_eq("four watchers", apus_process_watch((apus_handle_t)child, writer, key), 0);
  expect_eq("a fifth", apus_process_watch((apus_handle_t)child, writer, 4), ERR(APUS_ERR_NO_MEMORY));
  expect_eq("key 64", apus_process_watch((apus_handle_t)child, writer, 64), ERR(APUS_ERR_INVALID_ARGUMENT));
  apus_handle_t reader = (apus_handle_t)apus_handle_duplicate(events, APUS_RIGHT_READ);
  expect_eq("an endpoint without write", apus_process_watch((apus_handle_t)child, reader, 1), ERR(APUS_ERR_ACCESS_DENIED));
  apus_handle_t blind = (apus_handle_t)apus_handle_duplicate((apus_handle_t)child, APUS_RIGHT_MANAGE);
  expect_eq("a process without wait", apus_process_watch(blind, writer, 1), ERR(APUS_ERR_ACCESS_DENIED));
  expect_eq("not a process", apus_process_watch(writer, writer, 1), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect_eq("not a handle", apus_process_watch(999, writer, 1), ERR(APUS_ERR_BAD_HANDLE));
  apus_process_kill((apus_handle_t)child);
  expect_eq("a killed child is posted to all four", (int64_t)wait_bits(events), 0xf);
  apus_process_wait((apus_handle_t)child, &status);
  expect_true("killed", status.reason == APUS_EXIT_REASON_KILLED);
  apus_handle_close(blind);
  apus_handle_close(reader);
  apus_handle_close((apus_handle_t)child);

  /* A watched child outlives its watcher's endpoint: nothing breaks, nothing leaks. */
  child = start_case_with("tests/watch", "child", NULL, 0);
  apus_handle_t doomed = (apus_handle_t)apus_endpoint_create();
  apus_process_watch((apus_handle_t)child, doomed, 1);
  apus_handle_close(doomed);
  apus_process_wait((apus_handle_t)child, &status);
  apus_handle_close((apus_handle_t)child);

  apus_handle_close(writer);
  apus_handle_close(events);
  apus_handle_close(other_writer);
  apus_handle_close(other);
  return finish("process_watch");
}
